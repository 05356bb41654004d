Feature: W3C traceparent
  With trace context on, the middleware recognises a valid traceparent,
  binds its trace ID as the trace_id field, optionally adopts it as the
  correlation ID when no ID header arrives, and the httpx hooks forward it
  unchanged.

  Scenario: A valid traceparent puts its trace ID in the logs
    Given an app with trace context on
    When a request arrives with traceparent "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" and X-Request-ID "tp-1"
    Then the handler ran under ID "tp-1"
    And the handler saw "trace_id=4bf92f3577b34da6a3ce929d0e0e4736"
    And the handler's log line has "trace_id=4bf92f3577b34da6a3ce929d0e0e4736"
    And nothing of the trace is left after the request

  Scenario Outline: A malformed traceparent is ignored
    Given an app with trace context on and adoption
    When a request arrives with traceparent "<value>"
    Then the handler saw no fields
    And the handler ran under a generated ID

    Examples:
      | value                                                        |
      | 00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01      |
      | ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01      |
      | 00-00000000000000000000000000000000-00f067aa0ba902b7-01      |
      | 00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01      |
      | 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7         |
      | 00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01      |
      | 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz  |
      | 00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01      |

  Scenario: The trace ID is adopted when no ID header arrives
    Given an app with trace context on and adoption
    When a request arrives with traceparent "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    Then the handler ran under ID "4bf92f3577b34da6a3ce929d0e0e4736"
    And the response header X-Request-ID is "4bf92f3577b34da6a3ce929d0e0e4736"

  Scenario: An ID header still wins over the trace ID
    Given an app with trace context on and adoption
    When a request arrives with traceparent "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" and X-Request-ID "tp-2"
    Then the handler ran under ID "tp-2"

  Scenario: Without adoption the trace ID is only a field
    Given an app with trace context on
    When a request arrives with traceparent "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    Then the handler ran under a generated ID
    And the handler saw "trace_id=4bf92f3577b34da6a3ce929d0e0e4736"

  Scenario: Trace context is off unless asked for
    Given an app without trace context
    When a request arrives with traceparent "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    Then the handler saw no fields
    And the outbound call carried no traceparent

  Scenario: The traceparent is forwarded unchanged on outbound calls
    Given an app with trace context on
    When a request arrives with traceparent "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future" and X-Request-ID "tp-3"
    Then the outbound call carried traceparent "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future"
    And the outbound call carried X-Request-ID "tp-3"
