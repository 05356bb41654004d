Feature: structlog output carries the ID
  The shipped processor adds the ID to structlog events and, through
  ProcessorFormatter's foreign pre-chain, to stdlib records.

  Scenario: A structlog event inside a request
    Given structlog configured with the correlation processor and a JSON renderer
    When a structlog event "charged" is logged inside a request with ID "req-slog-1"
    Then the rendered event "charged" has request_id "req-slog-1"

  Scenario: A stdlib record rendered through ProcessorFormatter
    Given a stdlib handler with structlog's ProcessorFormatter and the processor in its pre-chain
    When a stdlib line "from stdlib" is logged inside a request with ID "req-slog-2"
    Then the rendered event "from stdlib" has request_id "req-slog-2"

  Scenario: An event outside any request
    Given structlog configured with the correlation processor and a JSON renderer
    When a structlog event "idle" is logged outside any request
    Then the rendered event "idle" has request_id "-"
