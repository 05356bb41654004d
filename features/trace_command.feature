Feature: The trace of one request across services' logs
  An operator holding one request ID runs `starlette-correlate trace ID
  FILE...` over the log files of several services and sees one timeline:
  every line of that ID and of the IDs it spawned, in time order, with its
  offset, service, level and message, each request's duration, errors
  marked. Bad input is skipped and counted; nothing reaches the terminal
  or the page unescaped.

  Background:
    Given a service "api" logging JSON lines to "api.log"
    And a service "backend" logging key=value lines to "backend.log.gz" compressed
    And a service "worker" logging key=value lines to "worker.log"

  Scenario: One ID across two services, one timeline in time order
    Given "api" logs "hop: calling the backend" for "req-1" at 0 ms
    And "backend" logs "backend doing the work" for "req-1" at 12 ms
    And "backend" logs an access line for "req-1" with status 200 and 3.5 ms at 15 ms
    And "api" logs an access line for "req-1" with status 200 and 21 ms at 20 ms
    And "api" logs "someone else's request" for "req-2" at 5 ms
    When I trace "req-1" over every file
    Then it exits with status 0
    And the timeline lists, in order:
      | offset | service | level | message                  |
      | +0.000 | api     | INFO  | hop: calling the backend |
      | +12.000 | backend | INFO  | backend doing the work  |
      | +15.000 | backend | INFO  | "GET /work" 200 3.5ms   |
      | +20.000 | api     | INFO  | "GET /hop" 200 21.0ms   |
    And the timeline shows a request of "backend" lasting "3.5 ms"
    And the timeline shows a request of "api" lasting "21.0 ms"
    And no line of "req-2" is shown

  Scenario: Jobs the request spawned, and their children, join the trace
    Given "api" logs "queueing the report" for "req-1" at 0 ms
    And "worker" logs "building the report" for "req-1" in task "task-a" at 30 ms
    And "worker" logs "sending the mail" for "req-9" in task "task-b" spawned by "task-a" at 50 ms
    And "worker" logs "unrelated job" for "req-3" in task "task-c" at 40 ms
    And "api" logs "a message that merely mentions req-1" for "req-4" at 60 ms
    When I trace "req-1" over every file
    Then the timeline shows the messages "queueing the report, building the report, sending the mail"
    And the timeline shows a job "task-a" and a job "task-b"
    And no line of "req-3" is shown
    And no line of "req-4" is shown

  Scenario: Errors are marked
    Given "api" logs "hop: calling the backend" for "req-1" at 0 ms
    And "backend" logs an ERROR "the database is gone" for "req-1" at 4 ms
    And "api" logs an access line for "req-1" with status 502 and 9 ms at 9 ms
    When I trace "req-1" over every file
    Then the lines "the database is gone" and "502 9.0ms" are marked as errors
    And the line "hop: calling the backend" is not marked as an error

  Scenario: Bad input is skipped and counted, never a crash
    Given "api" logs "the good line" for "req-1" at 0 ms
    And the file "api.log" also holds a broken JSON line naming "req-1"
    And the file "api.log" also holds a 10 MB line naming "req-1"
    And the file "api.log" also holds a line of unknown format naming "req-1"
    And the file "api.log" also holds a line of invalid UTF-8 naming "req-1"
    And a binary file "core.bin" naming "req-1"
    When I trace "req-1" over every file
    Then it exits with status 0
    And the timeline shows the messages "the good line"
    And its error output counts 5 skipped lines

  Scenario: A missing file is a clear error
    When I trace "req-1" over "api.log" and "nowhere.log"
    Then it exits with status 2
    And its error output names "nowhere.log"

  Scenario: A hostile message reaches neither the terminal nor the page raw
    Given "api" logs "\u001b[31mred\u001b[0m <script>alert(1)</script>" for "req-1" at 0 ms
    When I trace "req-1" over every file with an HTML page
    Then the timeline holds no escape character
    And the timeline shows "\x1b[31mred"
    And the page holds no "<script"
    And the page shows "&lt;script&gt;alert(1)&lt;/script&gt;"

  Scenario: The page draws a bar per request and job, self-contained
    Given "api" logs an access line for "req-1" with status 200 and 21 ms at 20 ms
    And "worker" logs "building the report" for "req-1" in task "task-a" at 30 ms
    When I trace "req-1" over every file with an HTML page
    Then the page has 2 bars
    And the page loads nothing from elsewhere

  Scenario: --service names a file's service
    Given "api" logs "hop: calling the backend" for "req-1" at 0 ms
    When I trace "req-1" with "--service gateway=api.log"
    Then the timeline lists, in order:
      | offset | service | level | message                  |
      | +0.000 | gateway | INFO  | hop: calling the backend |

  Scenario: The installed command runs the trace
    Given "api" logs "hop: calling the backend" for "req-1" at 0 ms
    When I run the installed command "starlette-correlate trace req-1 api.log"
    Then it exits with status 0
    And the timeline shows the messages "hop: calling the backend"
