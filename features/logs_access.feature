Feature: One access line per request
  With access_log=True the middleware logs one line per request on the
  logger "starlette_correlate.access", while the request's ID is active.

  Background:
    Given an app with the access log on and a filtered handler on the root logger

  Scenario: A successful request
    When a client calls "/hello" with the header X-Request-ID "req-access-1"
    Then there is exactly one access line
    And the access line has method "GET", path "/hello", status 200 and request_id "req-access-1"
    And the access line has the client address and a duration in milliseconds
    And the access line carries the field user_id "u-hello" bound by the handler

  Scenario: An unknown path
    When a client calls "/nowhere" with the header X-Request-ID "req-access-2"
    Then there is exactly one access line
    And the access line has method "GET", path "/nowhere", status 404 and request_id "req-access-2"

  Scenario: An unhandled exception
    When a client calls "/boom" and the app raises
    Then the response status is 500
    And there is exactly one access line
    And the access line has status 500 and the response's request_id

  Scenario: A streaming response is logged after its last chunk
    When a client calls "/stream" with the header X-Request-ID "req-access-4"
    Then there is exactly one access line
    And the access line has method "GET", path "/stream", status 200 and request_id "req-access-4"
    And the access line comes after the line of the last chunk

  Scenario: The client goes away in the middle of a stream
    When the client of "/stream" disconnects after the first chunk
    Then there is exactly one access line
    And the access line has status 200 and is marked incomplete

  Scenario: The client drops in the middle of its upload
    When a client announces a body of 1000 bytes to "/upload", sends 10 and goes away
    Then there is exactly one access line
    And the access line has status 499 and is marked incomplete

  Scenario: The client is gone before the response starts
    When the client of "/wait" goes away before the response
    Then there is exactly one access line
    And the access line has status 499 and is marked incomplete

  Scenario: A send to a client that is gone raises before the response starts
    When the server fails the first send of "/hello" with OSError
    Then there is exactly one access line
    And the access line has status 499 and is marked incomplete

  Scenario: The access log is off by default
    Given an app with the access log off
    When a client calls "/hello" with the header X-Request-ID "req-access-6"
    Then there is no access line
    And the middleware calls the app directly
