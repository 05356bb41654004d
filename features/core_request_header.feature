Feature: The chosen ID is written into the request's own headers
  With set_request_header, code further in that reads request.headers sees
  the ID the logs carry: once, never a refused client value.

  Background:
    Given an app that reads its ID headers, behind the middleware with set_request_header

  Scenario: An app reading request.headers sees a generated ID
    When a client sends a request without an ID header
    Then the app read exactly one X-Request-ID, the ID of the response

  Scenario Outline: A hostile incoming value is not passed on: <case>
    When a client sends the raw X-Request-ID <value>
    Then the app read exactly one X-Request-ID, the ID of the response
    And the app never read the hostile value

    Examples:
      | case            | value                         |
      | CR LF injection | "abc\\r\\nSet-Cookie: evil=1" |
      | non-ASCII bytes | "caf\\xc3\\xa9-\\xff"         |
      | 8 KiB of text   | 8192 times "a"                |

  Scenario: A repeated header collapses to one
    When a client sends the raw X-Request-ID twice, "one" and "two"
    Then the app read exactly one X-Request-ID, the ID of the response
    And the app never read "one" or "two"

  Scenario: Served by uvicorn, a repeated header collapses to one
    When a client sends X-Request-ID twice, "one" and "two", to the app served by uvicorn
    Then the app read exactly one X-Request-ID, the ID of the response
    And the app never read "one" or "two"

  Scenario: A valid incoming ID is kept, once
    When a client sends a request with X-Request-ID "abc-123"
    Then the app read exactly one X-Request-ID, "abc-123"

  Scenario: An alias from incoming_headers is removed
    Given the option incoming_headers "X-Request-ID, X-Correlation-ID"
    When a client sends a request with X-Correlation-ID "from-alias"
    Then the app read exactly one X-Request-ID, "from-alias"
    And the app read no X-Correlation-ID

  Scenario: A WebSocket's handshake headers carry the ID
    When a WebSocket client connects with X-Request-ID "bad value"
    Then the WebSocket read exactly one X-Request-ID, the ID of the handshake

  Scenario: Off by default, the request's headers are the client's
    Given the app without set_request_header
    When a client sends the raw X-Request-ID twice, "one" and "two"
    Then the app read the X-Request-ID values "one" and "two"
