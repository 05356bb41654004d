Feature: uvicorn's own lines carry the ID
  With the packaged --log-config (`starlette-correlate log-config uvicorn`),
  uvicorn's access line and its
  "Exception in ASGI application" line name the request's ID, and the
  traceback is logged once.

  @server
  Scenario Outline: A real uvicorn process with the packaged log configuration
    Given uvicorn serving the example service with the packaged "<format>" log configuration
    When a client calls "/hello" and then "/fail"
    Then uvicorn's access line for "/hello" carries the ID of its response
    And uvicorn's access line for "/fail" carries the ID of its response
    And the "Exception in ASGI application" line carries the ID of the 500 response
    And the traceback was logged exactly once

    Examples:
      | format |
      | kv     |
      | json   |

  @server
  Scenario: With two IDs, the traceback line carries the inherited ID and the parent
    Given uvicorn serving a two-ID service with the packaged "json" log configuration
    When a client calls "/fail" with X-Request-ID "caller-1" and X-Correlation-ID "corr-1"
    Then the "Exception in ASGI application" line carries the ID of the 500 response
    And that line carries correlation_id "corr-1" and request_id_parent "caller-1"
    And the traceback was logged exactly once
