Feature: Every request records how its ID was chosen
  An operator reading a line can tell an ID the caller sent from one made
  here, one that replaced a refused value, or one adopted from the trace
  context; a refused value's reason and length are kept, never the value.

  Background:
    Given the probe app behind the correlation middleware

  Scenario: An accepted incoming ID is incoming
    When a client sends GET "/async" with X-Request-ID "abc"
    Then the request's ID source is "incoming"
    And nothing was refused

  Scenario: A request without an ID gets a generated one
    When a client sends GET "/async" without an ID header
    Then the request's ID source is "generated"
    And nothing was refused

  Scenario: A hostile ID is replaced, its reason and length recorded
    When a client sends GET "/async" with X-Request-ID "abc def"
    Then the request's ID source is "replaced"
    And the refusal is "unsafe" of length 7
    And the hostile value appears nowhere in the response

  Scenario: A too long ID is replaced
    When a client sends an X-Request-ID of 300 letters
    Then the request's ID source is "replaced"
    And the refusal is "too_long" of length 300

  Scenario: A repeated ID header is replaced
    When the raw header X-Request-ID is sent twice with "one" and "two"
    Then the request's ID source is "replaced"
    And the refusal is "repeated" of length 0

  Scenario: A validator's refusal is invalid
    Given the probe app with the option validator is_uuid
    When a client sends GET "/async" with X-Request-ID "not-a-uuid"
    Then the request's ID source is "replaced"
    And the refusal is "invalid" of length 10

  Scenario: An untrusted client's ID is replaced
    Given the probe app with trusted sources "10.0.0.0/8"
    When a client sends GET "/async" with X-Request-ID "abc"
    Then the request's ID source is "replaced"
    And the refusal is "untrusted" of length 3

  Scenario: An adopted trace ID says traceparent
    Given the probe app with the option adopt_trace_id
    When a client sends GET "/async" with a traceparent and no ID
    Then the request's ID source is "traceparent"

  Scenario: Every record and the access line carry the source
    Given the probe app with the access log on
    And a log handler with the correlation filter captures the app's and the access lines
    When a client sends GET "/log" without an ID header
    Then the captured record "inside the handler" has request_id_source "generated"
    And the access line has source "generated"
