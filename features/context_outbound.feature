Feature: Outbound requests and aiohttp calls carry the correlation ID
  A service that calls the next one with requests (a Session given to
  instrument) or aiohttp (a ClientSession with trace_config()) sends its
  current ID by the httpx integration's rules: under the header name of the
  middleware that set it unless the carrier was given one, a header the
  caller set is kept, nothing is sent outside a request, and the incoming
  traceparent rides along when trace context is on. Both services are real
  uvicorn servers on 127.0.0.1; requests runs in a sync endpoint, in
  Starlette's threadpool, as users write it.

  Background:
    Given a real echo service on 127.0.0.1

  Scenario Outline: A call made while handling a request sends its ID
    Given a real service under CorrelationMiddleware that calls the echo service with <carrier>
    When the service is called with X-Request-ID "out-1"
    Then the echo service received X-Request-ID "out-1" exactly once

    Examples:
      | carrier  |
      | requests |
      | aiohttp  |

  Scenario Outline: A header the caller set is kept
    Given a real service under CorrelationMiddleware that calls the echo service with <carrier> setting X-Request-ID "mine"
    When the service is called with X-Request-ID "out-2"
    Then the echo service received X-Request-ID "mine" exactly once

    Examples:
      | carrier  |
      | requests |
      | aiohttp  |

  Scenario Outline: A header set on the session is kept
    Given a real service under CorrelationMiddleware that calls the echo service with <carrier> whose session sets X-Request-ID "session-wide"
    When the service is called with X-Request-ID "out-3"
    Then the echo service received X-Request-ID "session-wide" exactly once

    Examples:
      | carrier  |
      | requests |
      | aiohttp  |

  Scenario Outline: Outside a request nothing is sent
    When an instrumented <carrier> session calls the echo service outside any request
    Then the echo service received no X-Request-ID
    And the echo service received no traceparent

    Examples:
      | carrier  |
      | requests |
      | aiohttp  |

  Scenario Outline: The header name of the middleware that set the ID is followed
    Given a real service under CorrelationMiddleware with header "X-Correlation-ID" that calls the echo service with <carrier>
    When the service is called with X-Correlation-ID "in-1"
    Then the echo service received X-Correlation-ID "in-1" exactly once
    And the echo service received no X-Request-ID

    Examples:
      | carrier  |
      | requests |
      | aiohttp  |

  Scenario Outline: A header name given to the carrier wins over the middleware's
    Given a real service under CorrelationMiddleware with header "X-Correlation-ID" that calls the echo service with <carrier> for header "X-Trace-Me"
    When the service is called with X-Correlation-ID "in-2"
    Then the echo service received X-Trace-Me "in-2" exactly once
    And the echo service received no X-Correlation-ID

    Examples:
      | carrier  |
      | requests |
      | aiohttp  |

  Scenario Outline: The traceparent rides along when trace context is on
    Given a real service under CorrelationMiddleware with trace context that calls the echo service with <carrier>
    When the service is called with X-Request-ID "tp-1" and traceparent "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    Then the echo service received traceparent "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" exactly once
    And the echo service received X-Request-ID "tp-1" exactly once

    Examples:
      | carrier  |
      | requests |
      | aiohttp  |

  Scenario Outline: Without trace context no traceparent is forwarded
    Given a real service under CorrelationMiddleware that calls the echo service with <carrier>
    When the service is called with X-Request-ID "tp-2" and traceparent "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    Then the echo service received no traceparent
    And the echo service received X-Request-ID "tp-2" exactly once

    Examples:
      | carrier  |
      | requests |
      | aiohttp  |
