Feature: Each traceback line names the request it failed, never another
  A server logs an unhandled exception after the request's context is
  gone; the exception carries the ID of each request it failed, per task,
  and the logging filter picks the right one. Where the server cannot be
  helped, the library logs the traceback itself while the ID is set.

  Scenario: Two requests failing with one shared exception object each name their own ID
    Given an app whose requests all fail with one shared exception object
    When a server runs requests "shared-a" and "shared-b" at once and logs each failure in its task
    Then the server's traceback line of "shared-a" carries "shared-a"
    And the server's traceback line of "shared-b" carries "shared-b"

  Scenario: A traceback logged by a loop callback in a leftover context names its request
    Given an app whose requests all fail with one shared exception object
    When a server runs request "first" and logs its failure from a callback whose context holds "leftover"
    Then the callback's traceback line carries "first"

  Scenario: A request that logs a failure another request left names itself
    Given an app whose requests all fail with one shared exception object
    When request "origin" fails and request "bystander" logs the caught exception
    Then the bystander's line carries "bystander"

  Scenario: With error_log the library logs the traceback while the ID is set
    Given an app whose requests all fail with one shared exception object, with error_log on
    When a server runs requests "own-a" and "own-b" at once and logs each failure in its task
    Then the library logged one error line with the traceback for each of "own-a" and "own-b"
    And with SkipLoggedErrors on the server's logger no server traceback line is left
