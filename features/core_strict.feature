Feature: Strict mode rejects a refused incoming ID
  A service that would rather refuse a request than replace its caller's
  ID answers it with a 400 naming a fresh ID and the reason, never the
  value, and does not run the app.

  Scenario: A refused ID is answered with a 400
    Given the probe app with the option on_invalid "reject"
    When a client sends GET "/async" with X-Request-ID "two words"
    Then the response status is 400
    And the response carries a fresh generated ID exactly once
    And the response JSON names that ID and the reason "unsafe"
    And the app was not called

  Scenario: An absent ID is still generated
    Given the probe app with the option on_invalid "reject"
    When a client sends GET "/async" without an ID header
    Then the response status is 200

  Scenario: A WebSocket with a refused ID is denied
    Given the probe app with the option on_invalid "reject"
    When a WebSocket client connects to "/ws" with X-Request-ID "two words"
    Then the handshake is denied with a 400 that carries a fresh ID
    And the app was not called

  Scenario: A WebSocket without the denial extension is closed before accept
    Given the probe app with the option on_invalid "reject"
    When a WebSocket without the denial extension connects with X-Request-ID "a b"
    Then the socket is closed with code 1008 before it is accepted
    And the app was not called

  Scenario: An unknown on_invalid is refused at configuration
    When the middleware is configured with on_invalid "drop"
    Then the error names on_invalid and its two values
