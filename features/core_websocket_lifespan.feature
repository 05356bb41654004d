Feature: WebSockets get an ID; lifespan passes through untouched

  Scenario: The WebSocket accept carries the ID and the handler sees it
    Given the probe app behind the correlation middleware
    When a WebSocket client connects to "/ws" with X-Request-ID "ws-1" and sends "hi"
    Then the accept headers carry X-Request-ID "ws-1"
    And the WebSocket reply is "hi ws-1"
    And every ID recorded at "websocket" is "ws-1"
    And the request left nothing in the client's context

  Scenario: A real WebSocket over uvicorn carries the ID
    Given the probe app behind the correlation middleware
    And the app is served by uvicorn on 127.0.0.1
    When a websockets client connects over HTTP to "/ws" with X-Request-ID "ws-real" and sends "hello"
    Then the WebSocket reply is "hello ws-real"
    And the handshake response header X-Request-ID is "ws-real"

  Scenario: Lifespan startup, state and shutdown pass through
    Given the probe app behind the correlation middleware
    And the app is served by uvicorn on 127.0.0.1
    When an HTTP client sends GET "/lifespan-state" without an ID header
    Then the response body is "hello from lifespan"
    And after the server stops the lifespan saw "startup None" and "shutdown None"

  Scenario: A lifespan startup failure reaches the server unchanged
    Given an app whose lifespan fails at startup behind the middleware
    When the server runs the lifespan protocol
    Then the server receives "lifespan.startup.failed" with the message "no database"
