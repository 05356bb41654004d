Feature: Correlation scope for work outside HTTP, and the executor helper
  Background jobs, CLI commands and workers have no request; a scope gives
  their log lines an ID (and fields) and puts back what was there before.

  Scenario: A scope with a given ID sets it and restores nothing afterwards
    Given no correlation ID is set
    When a job runs in a scope with ID "job-42" and field job "nightly"
    Then inside the scope the ID was "job-42" and the fields "job=nightly"
    And afterwards no ID and no fields are set

  Scenario: A scope without an ID generates one
    Given no correlation ID is set
    When a job runs in a scope without an ID
    Then inside the scope the ID was a UUIDv7

  Scenario: Nested scopes restore the outer scope on the way out
    Given no correlation ID is set
    When scopes with IDs "outer" and "inner" are nested
    Then the IDs seen were "outer inner outer"
    And the inner scope saw fields "stage=inner step=outer"
    And afterwards no ID and no fields are set

  Scenario: A scope restores the old values when its block fails
    Given no correlation ID is set
    When a job binds a field and fails inside a scope with ID "job-7"
    Then the failure reached the caller
    And afterwards no ID and no fields are set

  Scenario: An async scope works with async with, in concurrent tasks
    Given no correlation ID is set
    When 50 tasks each run an async scope with their own ID
    Then every task saw only its own ID
    And afterwards no ID and no fields are set

  Scenario: An unsafe ID is refused when the scope starts
    Given no correlation ID is set
    Then a scope with ID "bad id\r\n" fails with a ValueError

  Scenario: The executor helper carries the ID into a thread, plain submit does not
    Given no correlation ID is set
    When a function runs in a thread pool from a scope with ID "pool-1"
    Then through submit_with_context it saw "pool-1" and field "user_id=u-3"
    And through run_in_executor it saw "pool-1" and field "user_id=u-3"
    And through plain submit it saw no ID
