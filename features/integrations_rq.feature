Feature: rq jobs carry the correlation ID and the parent
  The users' guide's rq recipe, saved as a module and run by a real
  `rq worker` process on a real Redis server. A job enqueued while a request
  runs is logged by the worker with the request's correlation ID; a job
  enqueued by a job names that job as its parent. The worker sets the ID
  for the job's life and resets it after, whatever the outcome.

  Background:
    Given an rq worker process running the guide's rq recipe on a real Redis server

  Scenario: The worker's lines carry the request's ID, the job's own ID and its parent
    When the guide's rq app is sent POST /orders/o-1 with X-Request-ID "req-rq-1"
    Then the worker logs "request_id=req-rq-1 parent=- shop.jobs order o-1 placed" as the enqueued job
    And the worker logs the shipping line of "o-1" under "req-rq-1" naming the placing job as parent

  Scenario: A failing job logs the ID, and so does rq's own failure line
    When a request with correlation ID "req-rq-2" enqueues the job "fails"
    Then the worker logs "request_id=req-rq-2 parent=- tests.jobs about to fail" as the enqueued job
    And the worker logs rq's failure line of that job under "req-rq-2"

  Scenario: A retried job keeps the ID on every attempt
    When a request with correlation ID "req-rq-3" enqueues the job "retries"
    Then the worker logs "request_id=req-rq-3 parent=- tests.jobs attempt 1" as the enqueued job
    And the worker logs "request_id=req-rq-3 parent=- tests.jobs attempt 2" as the enqueued job

  Scenario: A job enqueued outside any request gets a new ID, not the last job's
    When a request with correlation ID "req-rq-4" enqueues the job "says_hello"
    And the job "says_hello" is enqueued outside any request
    Then the second job ran under a new ID, not "req-rq-4"
