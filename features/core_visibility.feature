Feature: The correlation ID is visible wherever a request's code runs
  A service author adds the middleware once; every piece of code that
  serves the request reads the same ID, without passing it around.

  Background:
    Given the probe app behind the correlation middleware

  Scenario: An async handler sees the ID across awaits
    When a client sends GET "/async?hops=5" with X-Request-ID "visible-async"
    Then the response status is 200
    And the response header X-Request-ID is "visible-async"
    And every ID recorded at "async" is "visible-async"

  Scenario: The ID is on request.state
    When a client sends GET "/async" with X-Request-ID "visible-state"
    Then the response JSON field "state" is "visible-state"

  Scenario: A sync handler in the thread pool sees the ID
    When a client sends GET "/sync" with X-Request-ID "visible-sync"
    Then every ID recorded at "sync" is "visible-sync"

  Scenario: A streaming body is produced while the ID is still set
    When a client sends GET "/stream" with X-Request-ID "visible-stream"
    Then every ID recorded at "stream" is "visible-stream"
    And the response body mentions "visible-stream" 3 times

  Scenario: A background task sees the ID
    When a client sends GET "/background" with X-Request-ID "visible-bg"
    Then every ID recorded at "background" is "visible-bg"

  Scenario: A child task sees the ID
    When a client sends GET "/child-task" with X-Request-ID "visible-child"
    Then every ID recorded at "child" is "visible-child"

  Scenario: A log record inside the handler carries the ID
    Given a log handler with the correlation filter captures "tests.probe"
    When a client sends GET "/log" with X-Request-ID "visible-log"
    Then the captured record "inside the handler" has request_id "visible-log"

  Scenario: A generated ID is a UUIDv7 when none arrives
    When a client sends GET "/async" without an ID header
    Then the response header X-Request-ID is a UUID of version 7
    And every ID recorded at "async" is the response's ID
