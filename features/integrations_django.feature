Feature: Django middleware on the split-phase core
  A Django project adds one middleware and every request gets a correlation
  ID: on the request, in the response header and on every log line, under
  WSGI and ASGI, for sync and async views. The middleware's request hook
  sets the ID and keeps the reset token in the context store; its response
  hook resets it, so nothing is left behind.

  Background:
    Given a Django site with the correlation middleware

  Scenario Outline: A request's ID is in its header and logs and gone afterwards
    When the <client> requests the <kind> view with X-Request-ID "dj-<kind>-1"
    Then the response status is 200
    And the response header X-Request-ID is "dj-<kind>-1"
    And the view saw "dj-<kind>-1" as the current ID and on the request
    And the view's log line carries "dj-<kind>-1"
    And no correlation ID is set afterwards
    And the context store is empty

    Examples:
      | client            | kind  |
      | test client       | sync  |
      | test client       | async |
      | async test client | sync  |
      | async test client | async |
      | WSGI handler      | sync  |
      | WSGI handler      | async |
      | ASGI handler      | sync  |
      | ASGI handler      | async |

  Scenario Outline: A request without an ID gets a new one
    When the <client> requests the sync view without an X-Request-ID
    Then the response header X-Request-ID is a UUIDv7
    And the view's log line carries the ID of the response header
    And the context store is empty

    Examples:
      | client       |
      | test client  |
      | ASGI handler |

  Scenario: An unsafe incoming ID is replaced, never echoed
    When the test client requests the sync view with X-Request-ID "two words"
    Then the response header X-Request-ID is a UUIDv7
    And the view's log line carries the ID of the response header
    And no log line contains "two words"

  Scenario: An ID from an untrusted client is replaced
    Given the middleware trusts only "10.0.0.0/8"
    When the test client requests the sync view with X-Request-ID "planted-id"
    Then the response header X-Request-ID is a UUIDv7
    And the context store is empty

  Scenario Outline: A failing view answers 500 with the ID, and its traceback carries it
    When the <client> requests the failing view with X-Request-ID "dj-boom-1"
    Then the response status is 500
    And the response header X-Request-ID is "dj-boom-1"
    And the error log record with the traceback carries "dj-boom-1"
    And no correlation ID is set afterwards
    And the context store is empty

    Examples:
      | client       |
      | test client  |
      | WSGI handler |
      | ASGI handler |

  Scenario Outline: A streaming body sees the ID until the response is closed
    When the <client> requests the streaming view with X-Request-ID "dj-stream-1"
    Then every chunk of the body names "dj-stream-1"
    And the context store was empty when request_finished was sent
    And no correlation ID is set afterwards
    And the context store is empty

    Examples:
      | client       |
      | test client  |
      | WSGI handler |
      | ASGI handler |

  Scenario: Under ASGI with a sync-only neighbour the phases run in other contexts
    Given a sync-only middleware sits inside the correlation middleware
    When the ASGI handler requests the streaming view with X-Request-ID "dj-hop-1"
    Then every chunk of the body names "dj-hop-1"
    And the response phase ran in another context than the request phase
    And no error reached the host
    And no correlation ID is set afterwards
    And the context store is empty

  Scenario: Concurrent ASGI requests keep their own IDs
    When the ASGI handler serves 20 concurrent requests with distinct IDs
    Then each response header and each view's log line carry that request's own ID
    And the context store is empty

  Scenario Outline: Strict mode answers a refused ID with a 400 and never calls the view
    Given the middleware rejects refused IDs
    When the <client> requests the ids view with X-Request-ID "two words"
    Then the response status is 400
    And the response header X-Request-ID is a UUIDv7
    And the JSON body names the response header's ID and the reason "unsafe"
    And no response carries "two words"
    And the view was not called
    And no correlation ID is set afterwards
    And the context store is empty

    Examples:
      | client       |
      | test client  |
      | WSGI handler |
      | ASGI handler |

  Scenario Outline: The view finds the chosen ID in the request's headers
    Given the middleware writes the ID into the request's headers
    When the <client> requests the ids view with X-Request-ID "<sent>"
    Then the response status is 200
    And the view read the response header's ID in request.headers and request.META, once
    And no response carries "two words"
    And the context store is empty

    Examples:
      | client       | sent        |
      | test client  | two words   |
      | WSGI handler | first,again |
      | ASGI handler | dj-hdr-1    |

  Scenario Outline: Two IDs: a fresh ID for this hop, the caller's as parent
    Given the middleware keeps an inherited ID in "X-Correlation-ID"
    When the <client> requests the ids view with X-Request-ID "caller-1" and X-Correlation-ID "corr-1"
    Then the response status is 200
    And the response header X-Request-ID is a UUIDv7
    And the response header X-Correlation-ID is "corr-1"
    And the view saw inherited "corr-1" and parent "caller-1" on the request and in the context
    And no two IDs are set afterwards
    And the context store is empty

    Examples:
      | client       |
      | test client  |
      | WSGI handler |
      | ASGI handler |

  Scenario: Two IDs: a refused inherited ID starts here, and strict mode rejects it
    Given the middleware keeps an inherited ID in "X-Correlation-ID"
    And the middleware rejects refused IDs
    When the test client requests the ids view with X-Request-ID "caller-1" and X-Correlation-ID "two words"
    Then the response status is 400
    And the JSON body names the response header's ID and the reason "unsafe"
    And the response header X-Correlation-ID is the response header's X-Request-ID
    And the view was not called
    And no two IDs are set afterwards
    And the context store is empty
