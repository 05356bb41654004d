Feature: Two IDs: an inherited correlation ID beside a request ID per hop
  A system that wants both opts in with inherited_header. Every hop makes
  its own request ID and records the caller's as its parent; the
  inherited correlation ID travels end to end unchanged, or starts at the
  first hop. Both are on the response, in every log line, and judged by
  the same one rule as any incoming ID.

  Scenario: Each hop makes its own request ID; the caller's is the parent
    Given the probe app with the inherited header "X-Correlation-ID"
    When a client sends GET "/async" with X-Request-ID "caller-1" and X-Correlation-ID "corr-1"
    Then this hop's request ID is new, not "caller-1"
    And the parent ID is "caller-1"
    And the request's ID source is "generated"

  Scenario: The inherited ID is carried through unchanged
    Given the probe app with the inherited header "X-Correlation-ID"
    When a client sends GET "/async" with X-Request-ID "caller-1" and X-Correlation-ID "corr-1"
    Then the inherited ID is "corr-1"
    And the response carries X-Correlation-ID "corr-1" and this hop's request ID, once each

  Scenario: The inherited ID starts here when none came
    Given the probe app with the inherited header "X-Correlation-ID"
    When a client sends GET "/async" without an ID header
    Then the inherited ID is this hop's request ID
    And there is no parent ID
    And the response carries X-Correlation-ID and X-Request-ID equal, once each

  Scenario: A hostile inherited value is refused, never echoed, never logged
    Given the probe app with the inherited header "X-Correlation-ID"
    And a log handler with the correlation filter captures the app's and the access lines
    When a client sends GET "/log" with X-Request-ID "caller-1" and X-Correlation-ID "evil value"
    Then the hostile value appears nowhere in the response
    And no captured record carries the hostile value
    And the captured record "inside the handler" has correlation_id equal to its request_id

  Scenario: A refused inherited value is recorded, reason and length only
    Given the probe app with the inherited header "X-Correlation-ID"
    When a client sends GET "/async" with X-Request-ID "caller-1" and X-Correlation-ID "evil value"
    Then the request's ID source is "replaced"
    And the refusal is "unsafe" of length 10
    And the parent ID is "caller-1"

  Scenario: Strict mode rejects a refused inherited value
    Given the probe app with the inherited header "X-Correlation-ID" and on_invalid "reject"
    When a client sends GET "/async" with X-Request-ID "caller-1" and X-Correlation-ID "evil value"
    Then the response status is 400
    And the response carries X-Correlation-ID and X-Request-ID equal, once each
    And the app was not called

  Scenario: A 500 carries both IDs
    Given the probe app with the inherited header "X-Correlation-ID"
    When a client sends GET "/boom" with X-Request-ID "caller-1" and X-Correlation-ID "corr-1"
    Then the response status is 500
    And the response carries X-Correlation-ID "corr-1" and this hop's request ID, once each

  Scenario: Every log line and the access line carry both IDs and the parent
    Given the probe app with the inherited header "X-Correlation-ID" and the access log on
    And a log handler with the correlation filter captures the app's and the access lines
    When a client sends GET "/log" with X-Request-ID "caller-1" and X-Correlation-ID "corr-1"
    Then the captured record "inside the handler" has correlation_id "corr-1" and request_id_parent "caller-1"
    And the access line has correlation_id "corr-1" and request_id_parent "caller-1"
    And both lines carry this hop's request ID

  Scenario: Off by default, nothing changes
    Given the probe app behind the correlation middleware
    And a log handler with the correlation filter captures the app's and the access lines
    When a client sends GET "/log" with X-Request-ID "caller-1" and X-Correlation-ID "corr-1"
    Then the response header X-Request-ID is "caller-1"
    And the response has no X-Correlation-ID header
    And the captured record "inside the handler" has no correlation_id or request_id_parent
