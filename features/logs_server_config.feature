Feature: The server log configuration ships with the package
  A user who installed only the wheel gets, from the package itself, a
  logging configuration under which a server's own loggers write one line
  per record carrying the request's ID, in key=value or JSON.

  Scenario Outline: The packaged configuration stamps every server logger's lines
    Given the server "<server>" gave its loggers "<loggers>" bare handlers of their own
    And the packaged log configuration for "<server>" in "<format>" is applied
    When each of those loggers logs a line inside a request with ID "req-srv-1"
    Then each logger wrote exactly one "<format>" line carrying "req-srv-1"
    And nothing reached the server's bare handlers

    Examples:
      | server    | format | loggers                                     |
      | uvicorn   | kv     | uvicorn.error,uvicorn.access                |
      | uvicorn   | json   | uvicorn.error,uvicorn.access                |
      | gunicorn  | kv     | gunicorn.error,gunicorn.access              |
      | hypercorn | json   | hypercorn.error,hypercorn.access            |
      | granian   | kv     | _granian,granian.access                     |
      | daphne    | json   | daphne.server,daphne.http_protocol          |

  Scenario: The command prints the same configuration as JSON
    When I run "starlette-correlate log-config granian --format json"
    Then it exits with status 0
    And its output is the JSON of the packaged configuration for "granian" in "json"

  Scenario: python -m starlette_correlate is the same command
    When I run "python -m starlette_correlate log-config uvicorn"
    Then it exits with status 0
    And its output is the JSON of the packaged configuration for "uvicorn" in "kv"

  Scenario Outline: A wrong name is refused with the choices listed
    When I run "starlette-correlate log-config <arguments>"
    Then it exits with status 2
    And its error output names "<wrong>" and lists "<choices>"

    Examples:
      | arguments               | wrong  | choices                                   |
      | nginx                   | nginx  | uvicorn, gunicorn, hypercorn, granian, daphne |
      | uvicorn --format yaml   | yaml   | kv, json                                  |
      | uvicorn --level VERBOSE | VERBOSE | DEBUG, INFO, WARNING, ERROR, CRITICAL    |
