Feature: pytest fixtures for users' tests
  With the package installed, a user's own tests can run code under a known
  correlation ID and capture log records with the ID each was logged under,
  without any configuration: pytest loads the plugin by its entry point.

  Scenario: The fixture's ID shows in a captured record
    Given a user's test file that logs a line under the correlation_id fixture
    When pytest runs the user's tests in a separate process
    Then the user's tests passed: 1
    And the captured record carried the fixture's ID

  Scenario: A marked test runs under the marker's ID
    Given a user's test file with a test marked with correlation ID "order-42"
    When pytest runs the user's tests
    Then the user's tests passed: 1
    And the captured record carried "order-42"

  Scenario: Lines outside the ID carry the placeholder, and the ID ends with its test
    Given a user's test file that logs before the ID, under it, and in the next test
    When pytest runs the user's tests
    Then the user's tests passed: 2
    And the captured IDs of the first test were "-" then the fixture's ID
    And the second test saw no correlation ID

  Scenario: A wrong expectation about the ID fails the user's test
    Given a user's test file that expects the wrong ID in its captured record
    When pytest runs the user's tests
    Then the user's tests failed: 1
