Feature: uvicorn's own lines carry the ID
  With the documented --log-config, uvicorn's access line and its
  "Exception in ASGI application" line name the request's ID, and the
  traceback is logged once.

  @server
  Scenario Outline: A real uvicorn process with the example log configuration
    Given uvicorn serving the example service with "<config>"
    When a client calls "/hello" and then "/fail"
    Then uvicorn's access line for "/hello" carries the ID of its response
    And uvicorn's access line for "/fail" carries the ID of its response
    And the "Exception in ASGI application" line carries the ID of the 500 response
    And the traceback was logged exactly once

    Examples:
      | config                     |
      | examples/logging.json      |
      | examples/logging-json.json |
      | examples/logging-demo.json |
