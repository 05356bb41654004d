Feature: Incoming IDs are reused only when safe, valid and trusted
  An operator can send an ID to find a request in the logs; a hostile
  client cannot plant one, forge a log line or inject a header.

  Background:
    Given the probe app behind the correlation middleware

  Scenario: A valid incoming ID is reused
    When a client sends GET "/async" with X-Request-ID "abc"
    Then the response header X-Request-ID is "abc"

  Scenario: The header name is matched whatever its case
    When a client sends GET "/async" with header "x-REQUEST-id" "any-case-7"
    Then the response header X-Request-ID is "any-case-7"

  Scenario Outline: A hostile incoming ID is replaced and never echoed: <case>
    When the raw header X-Request-ID <value> reaches the app
    Then the response status is 200
    And the response carries a fresh generated ID exactly once
    And the hostile value appears nowhere in the response

    Examples:
      | case            | value                         |
      | CR LF injection | "abc\\r\\nSet-Cookie: evil=1" |
      | a NUL byte      | "abc\\x00def"                 |
      | non-ASCII bytes | "caf\\xc3\\xa9-\\xff"         |
      | 8 KiB of text   | 8192 times "a"                |
      | an empty value  | ""                            |
      | only whitespace | "   \\t "                     |
      | a quote         | "abc\\"level=ERROR"           |

  Scenario: A repeated ID header is replaced
    When the raw header X-Request-ID is sent twice with "one" and "two"
    Then the response carries a fresh generated ID exactly once

  Scenario: A validator refuses an ID
    Given the probe app with the option validator is_uuid
    When a client sends GET "/async" with X-Request-ID "not-a-uuid"
    Then the response header X-Request-ID is not "not-a-uuid"

  Scenario: An untrusted client's ID is ignored
    Given the probe app with trusted sources "10.0.0.0/8"
    When the client 192.0.2.10 sends X-Request-ID "from-outside"
    Then the response carries a fresh generated ID exactly once

  Scenario: A trusted client's ID is reused
    Given the probe app with trusted sources "10.0.0.0/8, ::1"
    When the client 10.20.30.40 sends X-Request-ID "from-proxy"
    Then the response header X-Request-ID is "from-proxy"

  Scenario Outline: An ID header the app set itself is kept, whatever its case
    When a raw app answers with its own header "<name>" "set-by-app"
    Then the response has exactly 1 X-Request-ID header
    And the response header X-Request-ID is "set-by-app"

    Examples:
      | name         |
      | x-request-id |
      | X-Request-ID |
      | X-REQUEST-ID |

  Scenario: Other response headers are untouched and the ID appears once
    When a client sends GET "/cookies" with X-Request-ID "cookie-jar"
    Then the response has 2 set-cookie headers
    And the response has exactly 1 X-Request-ID header
