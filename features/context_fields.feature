Feature: Bound fields
  Code handling a request binds user_id, session_id or any other key; the
  fields ride along with the correlation ID until the request ends, and
  never reach another request.

  Scenario: Binding makes a new mapping and earlier views are kept
    Given no fields are bound
    When the code binds user_id "u-1"
    And the code keeps a view of the fields
    And the code binds session_id "s-9"
    Then the fields are "session_id=s-9 user_id=u-1"
    And the kept view is "user_id=u-1"

  Scenario: The view of the fields cannot be changed through it
    Given no fields are bound
    When the code binds user_id "u-1"
    Then changing the view of the fields fails with a TypeError

  Scenario: A scoped binding is restored after its block, also on an exception
    Given no fields are bound
    When the code binds user_id "u-1"
    And a block binds user_id "u-2" and tenant "t-1" and then fails
    Then the fields are "user_id=u-1"

  Scenario: Fields bound in a handler vanish when the request ends
    Given the fields app
    When a request to "/bind/u-7" runs in this very task
    Then the handler saw "user_id=u-7"
    And the handler's log line, formatted as key=value, has "user_id=u-7"
    And no fields are bound afterwards

  Scenario: Fields bound in a failing handler vanish too
    Given the fields app
    When a request to "/bind-then-fail/u-8" runs in this very task
    Then the response status is 500
    And no fields are bound afterwards

  Scenario: Fields bound before a request stay bound after it
    Given the fields app
    And the code binds user_id "outer"
    When a request to "/bind/u-7" runs in this very task
    Then the fields seen after the request are "user_id=outer"

  Scenario: Fields never cross requests, even hundreds at once
    Given the fields app
    When 300 requests to "/bind/<marker>" run concurrently
    Then every request saw only its own user_id
    And no fields are bound afterwards
