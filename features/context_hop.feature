Feature: The ID crosses to the next service and back
  Service A, handling a request, calls service B through the httpx
  integration. Both are real uvicorn processes on 127.0.0.1, each with its
  own logging; one ID ties their lines together.

  Scenario: A client's ID reaches service B and comes back
    Given service B and service A run under uvicorn on 127.0.0.1
    When a client calls A's "/hop" with X-Request-ID "hop-given-1"
    Then A answers with X-Request-ID "hop-given-1"
    And B's response header and B's handler carried "hop-given-1"
    And B's log line "backend doing the work" carries "hop-given-1"
    And A's log lines for the hop carry "hop-given-1"
    And A's lines carry user_id "demo-user" only after it was bound

  Scenario: A generated ID crosses just the same
    Given service B and service A run under uvicorn on 127.0.0.1
    When a client calls A's "/hop" without an ID
    Then A answers with a generated ID in X-Request-ID
    And B's response header and B's handler carried that ID
    And B's log line "backend doing the work" carries that ID

  Scenario: With two IDs, the inherited one crosses unchanged and each hop has its own
    Given service B and service A run with two IDs under uvicorn on 127.0.0.1
    When a client calls A's "/hop" with X-Request-ID "caller-1" and X-Correlation-ID "corr-1"
    Then A answers with X-Correlation-ID "corr-1" and its own new X-Request-ID
    And B ran under "corr-1", a new request ID of its own, and A's request ID as parent
    And B's log line "back doing the work" carries "corr-1" and A's request ID as request_id_parent
