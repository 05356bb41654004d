Feature: Sentry events tagged with the correlation ID
  Every event captured while a request runs carries the correlation ID as
  the tag "correlation_id", including the event of an unhandled exception
  that Sentry's own ASGI middleware captures after our middleware has
  finished, so an operator can go from a Sentry issue to the log lines.

  Scenario: A message captured in a request carries the tag
    Given Sentry initialised with the correlation integration and a test transport
    When a request with X-Request-ID "sentry-abc-1" captures a message
    Then the captured event has the tag "correlation_id" "sentry-abc-1"

  Scenario: An unhandled exception's event carries the tag
    Given Sentry initialised with the correlation integration and a test transport
    When a request with X-Request-ID "sentry-abc-2" fails under Sentry's ASGI middleware
    Then the response status is 500
    And the captured event has the tag "correlation_id" "sentry-abc-2"

  Scenario: Concurrent requests never swap tags
    Given Sentry initialised with the correlation integration and a test transport
    When 50 requests with their own IDs capture a message concurrently
    Then every captured event carries the ID of its own request

  Scenario: An event outside any request has no tag
    Given Sentry initialised with the correlation integration and a test transport
    When a message is captured outside any request
    Then the captured event has no tag "correlation_id"

  Scenario: A tag the caller set is kept
    Given Sentry initialised with the correlation integration and a test transport
    When a request with X-Request-ID "sentry-abc-3" captures a message tagged "caller-value"
    Then the captured event has the tag "correlation_id" "caller-value"

  Scenario: Under Sentry's own Starlette integration both kinds of event carry the tag
    When a fresh process serves requests under Sentry's default integrations
    Then the Starlette integration of Sentry was enabled
    And the handler's message event carries the tag "correlation_id" "real-1"
    And the unhandled exception's event carries the tag "correlation_id" "real-2"
