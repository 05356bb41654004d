Feature: The split-phase core serves hosts with request and response hooks
  Hosts such as Django or Falcon set the ID in one hook and reset it in
  another. The context store keeps the reset token in between, keyed by
  request, and holds nothing once the response phase ran.

  Background:
    Given a correlation core with its own context store

  Scenario: A request phase sets the ID and the response phase resets it
    When the request phase runs for request "r1" with incoming ID "split-1"
    Then the current correlation ID is "split-1"
    And the store holds 1 entry
    When the response phase runs for request "r1"
    Then the current correlation ID is unset
    And the store holds 0 entries

  Scenario: A repeated response phase is harmless
    When the request phase runs for request "r1" with incoming ID "split-2"
    And the response phase runs for request "r1"
    And the response phase runs for request "r1" again
    Then the second response phase reports nothing to reset
    And the current correlation ID is unset
    And the store holds 0 entries

  Scenario: A response phase without a request phase is harmless
    When the response phase runs for request "never-started"
    Then the response phase reports nothing to reset
    And the store holds 0 entries

  Scenario: Interleaved requests each reset their own ID
    When the request phase runs for request "outer" with incoming ID "id-outer"
    And the request phase runs for request "inner" with incoming ID "id-inner"
    And the response phase runs for request "inner"
    Then the current correlation ID is "id-outer"
    When the response phase runs for request "outer"
    Then the current correlation ID is unset
    And the store holds 0 entries

  Scenario: A response phase in another context neither raises nor pollutes
    When the request phase runs in a thread's context for request "hop" with incoming ID "split-hop"
    And the response phase runs in a copy of that context made after the request phase
    Then no error reached the host
    And the copy's correlation ID is unset
    And the current correlation ID is unset
    And the store holds 0 entries

  Scenario: A foreign context holding its own ID is left alone
    When the request phase runs in a thread's context for request "hop" with incoming ID "split-hop"
    And the response phase runs in a fresh context that holds the ID "other-request"
    Then no error reached the host
    And that context's correlation ID is still "other-request"
    And the store holds 0 entries
