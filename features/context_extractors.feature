Feature: Fields extracted from the request
  The middleware fills fields from a header, a query parameter or a cookie,
  and a user-supplied async resolver derives more. A failing, slow or
  hostile extractor never fails the request: its field is left out and one
  warning, without the raw value, is logged.

  Scenario: A header, a query parameter and a cookie fill their fields
    Given the middleware extracts session_id, tenant and theme
    When a request arrives with session "s-1", tenant "t-9" and theme "dark"
    Then the response status is 200
    And the handler saw "session_id=s-1 tenant=t-9 theme=dark"
    And no warning was logged
    And no fields are bound afterwards

  Scenario: Missing values are simply absent
    Given the middleware extracts session_id, tenant and theme
    When a request arrives with session "s-1"
    Then the handler saw "session_id=s-1"
    And no warning was logged

  Scenario: The async resolver derives the user from the session
    Given the middleware extracts session_id, tenant and theme
    And a resolver that finds user "u-1" for session "s-1"
    When a request arrives with session "s-1"
    Then the handler saw "session_id=s-1 user_id=u-1"
    And the handler's log line has "session_id=s-1" and "user_id=u-1"

  Scenario: An extractor that raises leaves only its own field out
    Given the middleware extracts session_id, tenant and theme
    And the tenant extractor raises
    When a request arrives with session "s-1", tenant "t-9" and theme "dark"
    Then the response status is 200
    And the handler saw "session_id=s-1 theme=dark"
    And one warning was logged, naming "tenant"

  Scenario: A resolver that raises leaves its fields out
    Given the middleware extracts session_id, tenant and theme
    And a resolver that raises
    When a request arrives with session "s-1"
    Then the response status is 200
    And the handler saw "session_id=s-1"
    And one warning was logged, naming "resolver"

  Scenario: A resolver that takes too long is given up on
    Given the middleware extracts session_id, tenant and theme
    And a resolver that never answers, with a time-out of 0.05 seconds
    When a request arrives with session "s-1"
    Then the response status is 200
    And the handler saw "session_id=s-1"
    And one warning was logged, naming "timed out"

  Scenario: Values with spaces, commas and printable Unicode are kept
    Given the middleware extracts session_id, tenant and theme
    And it extracts the user agent and the forwarded chain
    When a request arrives with session "s-1", tenant "Zürich", user agent "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0" and forwarded chain "203.0.113.7, 10.0.0.2"
    Then the handler saw "agent=Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0 forwarded=203.0.113.7, 10.0.0.2 session_id=s-1 tenant=Zürich"
    And no warning was logged

  Scenario: A hostile value is refused and never logged
    Given the middleware extracts session_id, tenant and theme
    When a request arrives with session "s-1\x1b[2J\" level=ERROR forged=yes"
    Then the response status is 200
    And the handler saw no fields
    And one warning was logged, naming "session_id"
    And no log line contains "forged"

  Scenario: A resolver's unsafe value is refused too
    Given the middleware extracts session_id, tenant and theme
    And a resolver that finds user "u-1\nlevel=ERROR forged=yes" for session "s-1"
    When a request arrives with session "s-1"
    Then the handler saw "session_id=s-1"
    And one warning was logged, naming "user_id"
    And no log line contains "forged"

  Scenario Outline: Bad configuration is refused when the app is built
    Then configuring <option> fails with a <error> naming "<hint>"

    Examples:
      | option                           | error      | hint            |
      | a field named "message"          | ValueError | message         |
      | a field named "not a name"       | ValueError | not a name      |
      | an extractor that is not callable | TypeError  | session_id      |
      | a resolver that is not callable  | TypeError  | resolver        |
      | a resolver time-out of 0         | ValueError | resolver_timeout |
