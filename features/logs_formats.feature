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
