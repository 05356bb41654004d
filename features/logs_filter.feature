Feature: The correlation ID on every log record
  A service author attaches CorrelationIdFilter to a handler, and every
  record that handler writes names the request it belongs to.

  Scenario: A line logged inside a handler carries the request's ID
    Given a filtered handler on the root logger
    When a client calls "/log" with the header X-Request-ID "req-filter-1"
    Then the record "inside the handler" has request_id "req-filter-1"

  Scenario: A line logged outside any request carries the placeholder
    Given a filtered handler on the root logger
    When "between requests" is logged outside any request
    Then the record "between requests" has request_id "-"

  Scenario: An explicit extra request_id is kept
    Given a filtered handler on the root logger
    When "chosen" is logged with extra request_id "from-caller" inside a request with ID "req-filter-2"
    Then the record "chosen" has request_id "from-caller"

  Scenario: A filter on a parent logger misses its children; on a handler it does not
    Given the filter attached to the logger "shop" and a plain handler on it
    When "from a child" is logged by the logger "shop.db" inside a request with ID "req-filter-3"
    Then the record "from a child" has no request_id
    When the filter is attached to the handler instead
    And "from a child again" is logged by the logger "shop.db" inside a request with ID "req-filter-3"
    Then the record "from a child again" has request_id "req-filter-3"

  Scenario: Bound fields become attributes, and an explicit extra still wins
    Given a filtered handler on the root logger
    When "with fields" is logged with the field user_id "u-7" bound and extra session "s-explicit" over the bound session "s-bound"
    Then the record "with fields" has user_id "u-7" and session "s-explicit"
