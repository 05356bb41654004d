Feature: Celery tasks carry the correlation ID and the parent
  A task published while a request runs is logged in the worker with the
  request's correlation ID; a task published from inside a task also names
  its parent, the publishing task. The worker sets the ID before a task runs
  and resets it afterwards, whatever the outcome.

  Background:
    Given a real Celery worker on an in-memory broker with the signals connected

  Scenario: The worker's log line carries the publishing request's ID
    When a request with correlation ID "req-celery-1" publishes a task
    Then the task's log line reads "req-celery-1 - hello from the task"

  Scenario: A task published from a task names its parent
    When a request with correlation ID "req-celery-2" publishes a task that publishes a child
    Then the parent's log line reads "req-celery-2 - parent publishing"
    And the child's log line carries "req-celery-2" and the parent's task ID

  Scenario: A failing task logs the ID and leaves nothing behind
    When a request with correlation ID "req-celery-3" publishes a task that fails
    Then the task's log line reads "req-celery-3 - about to fail"
    And Celery's own error line for the failure carries "req-celery-3"
    And the worker holds no correlation state afterwards

  Scenario: A retried task keeps the ID and its parent on every attempt
    When a request with correlation ID "req-celery-4" publishes a task that retries once
    Then both attempts logged "req-celery-4 - attempt"
    And the worker holds no correlation state afterwards

  Scenario: A task published outside any request gets a fresh ID
    When a task is published outside any request after one published in a request
    Then the second task's ID is a new one, not the earlier request's

  Scenario: Worker records name the running task and its parent
    When a request with correlation ID "req-celery-6" publishes a task that publishes a child
    Then the child's task line names the child's own task ID and its parent's

  Scenario: A task that arrives with no ID gets one from the configured generator
    Given the signals are connected with a generator of "job-" IDs
    When a task is published outside any request
    Then the task ran under an ID the generator made
