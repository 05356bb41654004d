Feature: OpenTelemetry spans and trace IDs
  With OpenTelemetry installed, the span of a request carries its
  correlation ID as an attribute, and log records carry the current trace
  and span IDs beside the correlation ID, so an operator can go from a
  trace to the request's log lines and back.

  Scenario: The request's span carries the correlation ID
    Given an app traced by an in-memory tracer provider
    When a request is sent with X-Request-ID "otel-abc-1"
    Then the request's span has the attribute "correlation.id" "otel-abc-1"

  Scenario: A generated correlation ID reaches the span too
    Given an app traced by an in-memory tracer provider
    When a request is sent without an X-Request-ID
    Then the request's span has the response's X-Request-ID as "correlation.id"

  Scenario: A log line in the request carries the trace, the span and the ID
    Given an app traced by an in-memory tracer provider
    When a request is sent with X-Request-ID "otel-abc-2"
    Then the handler's log line shows the span's trace ID, span ID and "otel-abc-2"

  Scenario: Outside a span and a request the log line shows placeholders
    Given a handler with the correlation and trace context filters
    When a line is logged outside any span and request
    Then the line reads "- - - outside"
