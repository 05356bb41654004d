Feature: Outbound httpx calls carry the correlation ID
  A service that calls another with httpx sends its current ID, so the next
  service logs the same one. Both clients, sync and async, are covered; a
  header the caller set wins; outside a request nothing is sent.

  Background:
    Given a real echo service on 127.0.0.1

  Scenario Outline: An instrumented client sends the current ID
    When the <kind> client calls the echo service in a scope with ID "out-1"
    Then the echo service received X-Request-ID "out-1" exactly once

    Examples:
      | kind  |
      | sync  |
      | async |

  Scenario Outline: A header the caller set is never overridden
    When the <kind> client calls the echo service with X-Request-ID "mine" in a scope with ID "out-2"
    Then the echo service received X-Request-ID "mine" exactly once

    Examples:
      | kind  |
      | sync  |
      | async |

  Scenario Outline: Outside a request no ID header is sent
    When the <kind> client calls the echo service with no ID set
    Then the echo service received no X-Request-ID

    Examples:
      | kind  |
      | sync  |
      | async |

  Scenario: Instrumenting a client twice adds one hook
    When a client is instrumented twice
    Then it has one correlation hook

  Scenario: A custom header name is used
    When the async client with header "X-Correlation-ID" calls the echo service in a scope with ID "out-3"
    Then the echo service received X-Correlation-ID "out-3" exactly once
    And the echo service received no X-Request-ID

  Scenario Outline: A client follows the header name of the middleware that set the ID
    Given a service under CorrelationMiddleware with header "X-Correlation-ID" that calls the echo service with a <kind> client
    When the service is called with X-Correlation-ID "in-1"
    Then the echo service received X-Correlation-ID "in-1" exactly once
    And the echo service received no X-Request-ID

    Examples:
      | kind  |
      | sync  |
      | async |

  Scenario: A header name given to the client wins over the middleware's
    Given a service under CorrelationMiddleware with header "X-Correlation-ID" that calls the echo service with a client for header "X-Trace-Me"
    When the service is called with X-Correlation-ID "in-2"
    Then the echo service received X-Trace-Me "in-2" exactly once
    And the echo service received no X-Correlation-ID

  Scenario Outline: An httpx2 client is instrumented like an httpx one
    When the <kind> httpx2 client calls the echo service in a scope with ID "out-4"
    Then the echo service received X-Request-ID "out-4" exactly once

    Examples:
      | kind  |
      | sync  |
      | async |
