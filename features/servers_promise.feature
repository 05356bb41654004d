Feature: On every server, every line names its own request
  Served by uvicorn (h11 and httptools), gunicorn with uvicorn-worker,
  hypercorn (HTTP/1.1 and h2c), granian or daphne, with the command line and
  log configuration the users' guide gives for that server, every request
  yields one access line and every unhandled exception one traceback line,
  each carrying that request's ID and never another's. Where the server's
  own line cannot carry it (granian, daphne), the library's lines do.

  @server
  Scenario Outline: One access line and one traceback line per request, each with its ID
    Given <server> serving the test app as the guide says
    When a client sends a plain, an identified, a hostile, a failing and a streaming request, then overlapping ones
    Then each request has exactly one access line, and it carries that request's ID
    And each failed request has exactly one traceback line, and it carries that request's ID
    And the hostile incoming ID appears in no line
    And every line the server printed is one record in its format

    Examples:
      | server            |
      | uvicorn-h11       |
      | uvicorn-httptools |
      | uvicorn-json      |
      | gunicorn          |
      | hypercorn         |
      | hypercorn-h2c     |
      | granian           |
      | daphne            |

  @server
  Scenario Outline: A client that drops in the middle of its upload is logged as 499
    Given <server> serving the test app as the guide says
    When a client sends a plain, an identified, a hostile, a failing and a streaming request, then overlapping ones
    And a client announces a body of 1000 bytes, sends 10 and goes away
    Then the access line of the dropped upload has status 499 and is marked incomplete

    # daphne calls the app only once the whole body is in: nothing to log.
    Examples:
      | server  |
      | granian |
