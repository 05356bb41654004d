Feature: An unhandled exception still names its request
  Installed with app.add_middleware, the middleware answers an unhandled
  exception with a 500 that carries the ID and tells the client which ID to
  quote; the exception still reaches the server, whose traceback line names
  the ID too.

  Background:
    Given the probe app behind the correlation middleware

  Scenario: The 500 carries the ID in its header and body
    When a client sends GET "/boom" with X-Request-ID "err-1"
    Then the response status is 500
    And the response header X-Request-ID is "err-1"
    And the response JSON field "request_id" is "err-1"
    And the response asks the client to close the connection

  Scenario: The exception still reaches the server
    When a client that raises app exceptions sends GET "/boom"
    Then the client sees the RuntimeError "the endpoint failed"
    And the correlation ID is unset in the client's context

  Scenario: The server's traceback line carries the ID over real HTTP
    Given the app is served by uvicorn on 127.0.0.1
    And a log handler with the correlation filter captures "uvicorn.error"
    When an HTTP client sends GET "/boom" with X-Request-ID "err-uvicorn"
    Then the response status is 500
    And the response header X-Request-ID is "err-uvicorn"
    And the captured record "Exception in ASGI application" has request_id "err-uvicorn"
    And exactly one captured record has a traceback

  Scenario: A custom error response is used and still carries the ID
    Given the probe app with a custom error response
    When a client sends GET "/boom" with X-Request-ID "err-custom"
    Then the response status is 500
    And the response header X-Request-ID is "err-custom"
    And the response body is "custom failure for err-custom"

  Scenario: A debug app keeps Starlette's traceback page, with the ID
    Given the probe app in debug mode
    When a client sends GET "/boom" with X-Request-ID "err-debug"
    Then the response status is 500
    And the response header X-Request-ID is "err-debug"
    And the response body mentions "RuntimeError" 1 times or more
