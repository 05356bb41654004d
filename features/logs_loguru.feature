Feature: loguru lines carry the ID
  With `logger.configure(patcher=patcher)` every loguru record's `extra`
  holds `request_id` and the bound fields; `InterceptHandler` routes stdlib
  and server lines into loguru with their IDs. The sinks are real loguru
  sinks writing JSON lines (`serialize=True`).

  Background:
    Given loguru configured with the correlation patcher and a JSON sink

  Scenario: A line logged in a request
    When a client calls "/hello" with ID "req-lg-1"
    Then the loguru line "hello" has request_id "req-lg-1"
    And the loguru line "hello" has user_id "u-1"

  Scenario: Lines logged in threads and a background task
    When a client calls "/work" with ID "req-lg-2"
    Then the loguru line "from run_in_executor" has request_id "req-lg-2"
    And the loguru line "from submit_with_context" has request_id "req-lg-2"
    And the loguru line "from a background task" has request_id "req-lg-2"

  Scenario: A line outside any request
    When a loguru line "idle" is logged outside any request
    Then the loguru line "idle" has request_id "-"

  Scenario: A value bound with logger.bind is kept
    When a client calls "/bound" with ID "req-lg-3"
    Then the loguru line "bound by hand" has request_id "mine"
    And the loguru line "bound by hand" has user_id "someone"

  Scenario: A stdlib line routed through the intercept handler
    Given the intercept handler on the stdlib logger "tests.loguru"
    When a client calls "/stdlib" with ID "req-lg-4"
    Then the loguru line "from the stdlib" has request_id "req-lg-4"
    And the loguru line "from the stdlib" is at level "WARNING"

  Scenario: A traceback logged after its request ended
    When a client calls "/fail" with ID "req-lg-5" and logs the exception it raised
    Then the loguru line "the request failed" has request_id "req-lg-5"

  @server
  Scenario: uvicorn's lines through the intercept handler
    Given uvicorn serving an app module that routes every logger into loguru
    When a client calls "/hello" and then "/fail" on that server
    Then the server's loguru line "hello" carries the ID of its response
    And uvicorn's access line for "/hello" in loguru carries the ID of its response
    And the "Exception in ASGI application" loguru line carries the ID of the 500 response
    And the loguru traceback was written exactly once
