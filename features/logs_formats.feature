Feature: key=value and JSON lines an operator can grep and parse
  Every record becomes exactly one line. Values are quoted and escaped, so
  a hostile message can neither add a field nor start a new line.

  Scenario Outline: A hostile message cannot forge a field or a line
    Given the key=value and JSON formatters behind the correlation filter
    When the message <message> is logged inside a request with ID "req-fmt-1"
    Then each format wrote exactly one line
    And both lines parse back to the same fields
    And the parsed message is <message> and request_id is "req-fmt-1"

    Examples:
      | message                                            |
      | 'plain words'                                      |
      | 'say "hi" request_id=forged'                       |
      | 'first\\nlevel=ERROR request_id=forged'            |
      | 'carriage\\r\\nreturn, a \\\\ backslash and \\\\"' |
      | 'caf\\u00e9 \\u2028 separator \\x1b[31m red \\x85' |

  Scenario: An exception stays inside its record
    Given the key=value and JSON formatters behind the correlation filter
    When an exception is logged inside a request with ID "req-fmt-2"
    Then each format wrote exactly one line
    And both lines parse back to the same fields
    And the parsed exc_info holds the traceback and request_id is "req-fmt-2"

  Scenario: Extra fields become fields of the line
    Given the key=value and JSON formatters behind the correlation filter
    When "order placed" is logged with extra order_id "o-42" outside any request
    Then both lines parse back to the same fields
    And the parsed fields include order_id "o-42" and request_id "-"

  Scenario: A nested extra is JSON that jq can query
    Given the key=value and JSON formatters behind the correlation filter
    When "order placed" is logged with extra payload {"a": 1, "items": [1, 2.5, null]} inside a request with ID "req-fmt-3"
    Then the JSON line's payload is {"a": 1, "items": [1, 2.5, null]}
    And the key=value line's payload is the same JSON, as one quoted value

  Scenario: Values that cannot be written as they are never raise or split a line
    Given the key=value and JSON formatters behind the correlation filter
    When a record is logged whose fields hold a cycle, an object whose str() raises, a lone surrogate, NaN, a 10 MB string and an int of 100000 digits
    Then each format wrote exactly one line
    And the JSON line parses, with NaN as null, the int as "<int of 332190 bits>" and the cycle marked "<cycle>"

  Scenario: Renamed and static fields from dictConfig
    Given a dictConfig whose "()" JSON formatter renames message to msg and request_id to correlation_id, and adds service "orders" and env "prod"
    When "order placed" is logged through it inside a request with ID "req-fmt-4"
    Then its line has msg "order placed", correlation_id "req-fmt-4", service "orders" and env "prod", and no message or request_id

  Scenario Outline: The standard datefmt from dictConfig, with either key
    Given a dictConfig whose <key> <formatter> formatter has datefmt "%Y-%m-%d"
    When "order placed" is logged through it inside a request with ID "req-fmt-5"
    Then its line's time is today's UTC date

    Examples:
      | key     | formatter |
      | "()"    | key=value |
      | "class" | key=value |
      | "()"    | JSON      |
      | "class" | JSON      |
