import ArgumentParser
import Foundation
import KBCore
import KBWorkspace

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `--tz`: the time zone for follow-up days and "today" (the rule is ``TimeZoneChoice``'s:
/// `--tz`, else `$TZ` when it names a zone, else UTC).
struct TimeZoneOption: ParsableArguments {
  @Option(name: .customLong("tz"), help: ArgumentHelp("Time zone for dates, such as Europe/Berlin (default: $TZ, else UTC).", valueName: "zone"))
  var tz: String?

  func validate() throws {
    guard let tz else { return }
    do { _ = try FollowUp.timeZone(tz) } catch { throw ValidationError(error.description) }
  }

  /// The zone and the name to show for it; a warning about `$TZ` goes to stderr.
  func choice() throws -> TimeZoneChoice {
    let choice = try TimeZoneChoice(tz)
    if let warning = choice.warning { Output.warn(warning) }
    return choice
  }

  func zone() throws -> (TimeZone, String) {
    let choice = try choice()
    return (choice.zone, choice.name)
  }
}


func parseTime(_ text: String?, option: String) throws -> Date? {
  guard let text else { return nil }
  guard let date = Timestamp.parse(text) else {
    throw ValidationError("'--\(option) \(text)' is not a time; use ISO 8601 such as 2024-10-20T16:05:00Z.")
  }
  return date
}

extension KBCommand {
  struct CaseGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "case",
      abstract: "Work a customer case: open it, log the journal, hand it over, resolve, check back, promote.",
      discussion: "Lifecycle: open → acknowledged → offline/escalated → resolved → closed. See docs/CASES.md.",
      subcommands: [CaseOpen.self, CaseLog.self, CaseReplyCommand.self, CaseAssign.self, CaseResolve.self, CaseDue.self, CasePromote.self])
  }

  // MARK: open

  struct CaseOpen: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "open",
      abstract: "Open a case from a mention: the customer's words, or JSON on standard input.",
      discussion: """
        JSON on standard input ('-', or when standard input is not a terminal and no words are \
        given): a plain object {"text", "author", "url", "created_at", "channel"}, an X API v2 \
        tweet response (data + includes.users), a Mastodon status, an array of these, or JSON \
        lines (one case per mention). Bad input opens no case at all. Flags fill in what the \
        JSON lacks. Open cases that look like the same problem are listed; link with --related.
        """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The customer's words ('-' reads JSON from standard input).", valueName: "text"))
    var words: [String] = []
    @Option(help: "The customer's handle, such as @stevebuttry.") var customer: String?
    @Option(help: "Where it came from: twitter, mastodon, email, ….") var channel: String?
    @Option(help: "A link to the original post.") var url: String?
    @Option(help: "When it was posted (ISO 8601; default: now).") var at: String?
    @Option(help: "The agent who owns it.") var assignee: String?
    @Option(name: .customLong("tag"), help: "A tag (repeatable).") var tags: [String] = []
    @Option(name: .customLong("related"), help: "A case with the same problem to link to (repeatable).") var related: [String] = []
    @Option(help: "The id (default: the day and words of the complaint).") var id: String?
    @Option(help: "A title (default: the start of the complaint).") var title: String?

    func validate() throws {
      _ = try parseTime(at, option: "at")
      if let customer, customer.contains("\n") { throw ValidationError("'--customer' must be one line.") }
    }

    var readsStandardInput: Bool {
      words == ["-"] || (words.isEmpty && isatty(STDIN_FILENO) == 0)
    }

    func run() throws {
      let mentions: [Mention]
      if readsStandardInput {
        let input = readAllStandardInput()
        do {
          mentions = try Mention.parse(input: input).map(fill)
        } catch {
          throw WorkspaceError.invalidInput("standard input: \(error.message)")
        }
      } else {
        let text = words.joined(separator: " ")
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
          throw ValidationError("Give the customer's words, or pipe a mention as JSON: kb case open - < mention.json")
        }
        mentions = [fill(Mention.plain(text))]
      }
      if id != nil, mentions.count > 1 {
        throw ValidationError("'--id' names one case, but the input holds \(mentions.count) mentions.")
      }
      let workspace = try global.open()
      // A post by our own account, or one already opened (same link or platform id), opens
      // nothing and says why: running the same input twice opens nothing new.
      let intake = try workspace.openCases(
        from: mentions, related: related, assignee: assignee, tags: tags, id: id, title: title)
      let opened = intake.opened
      let skipped = intake.skipped
      struct Item: Codable { var `case`: DocumentJSON; var similar: [SimilarCase] }
      struct Result: Codable { var opened: [Item]; var skipped: [CaseIntake.Skipped] }
      // One mention that opens nothing is a failure (exit 1); a batch lists what it skipped.
      let refused = mentions.count == 1 && opened.isEmpty
      if global.json {
        try global.output.print(json: Result(
          opened: opened.map { Item(case: DocumentJSON($0.document), similar: $0.similar) }, skipped: skipped))
        if refused { throw ExitCode.failure }
        return
      }
      if refused, let reason = skipped.first {
        throw WorkspaceError.invalidInput(
          reason.reason == "already-opened"
            ? "This mention (\(reason.source ?? "")) was already opened as case '\(reason.id ?? "")'. Run 'kb show \(reason.id ?? "")'."
            : reason.message)
      }
      let output = global.output
      for s in skipped { print(output.yellow(s.message)) }
      if opened.isEmpty, !skipped.isEmpty { print(output.dim("No case opened.")) }
      for item in opened {
        let d = item.document
        let who = [d.customer, d.channel].compactMap { $0 }.joined(separator: " on ")
        print("Opened case \(output.bold(d.id))\(who.isEmpty ? "" : " from " + who) (\(d.path))")
        if !item.similar.isEmpty {
          print(output.yellow("  Looks like the same problem as:"))
          for s in item.similar {
            print("    \(output.bold(s.id))  \(s.title)  \(output.dim("[\(s.status)\(s.customer.map { " · \($0)" } ?? "")]"))")
          }
          print(output.dim("  Link instead of duplicating: kb case open --related \(item.similar[0].id) …"))
        }
      }
    }

    /// Flags fill what the mention does not say.
    func fill(_ mention: Mention) -> Mention {
      mention.filling(customer: customer, channel: channel, url: url, createdAt: at.flatMap(Timestamp.parse))
    }
  }

  // MARK: log

  struct CaseLog: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "log",
      abstract: "Append a signed entry to a case's journal; the status follows.",
      discussion: """
        Kinds: note, listened, acknowledged, apologized, acted, offline, escalated, handoff, \
        resolved, checked-back, reopened, closed. A checked-back entry says whether the fix held: \
        start the text with "Held:" or "Did not hold:", or pass --held / --not-held. A closed \
        case takes no entry until it is reopened (--kind reopened).
        """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var timeZone: TimeZoneOption
    @Argument(help: "The case's id.") var id: String
    @Option(name: .shortAndLong, help: "What the entry records.", completion: .list(journalKindNames))
    var kind: String = "note"
    @Argument(help: "What happened.") var words: [String] = []
    @Option(name: .customLong("as"), help: ArgumentHelp("Sign as \"Name <email>\" (default: the agent identity).", valueName: "author"))
    var author: String?
    @Option(help: "When it happened (ISO 8601; default: now).") var at: String?
    @Flag(help: "For checked-back: the fix held.") var held = false
    @Flag(name: .customLong("not-held"), help: "For checked-back: the fix did not hold.") var notHeld = false

    func validate() throws {
      _ = try parseTime(at, option: "at")
      let k = JournalEntry.Kind(rawValue: kind.lowercased())
      guard k.isKnown, k != .merge else { throw ValidationError(CaseError.unknownKind(kind).description) }
      if held && notHeld { throw ValidationError("Pass --held or --not-held, not both.") }
      if (held || notHeld) && k != .checkedBack { throw ValidationError("--held and --not-held go with --kind checked-back.") }
    }

    func run() throws {
      let workspace = try global.open()
      let (zone, _) = try timeZone.zone()
      let change = try workspace.log(
        caseID: id, kind: JournalEntry.Kind(rawValue: kind.lowercased()), text: words.joined(separator: " "),
        author: try workspace.agentName(override: author), at: try parseTime(at, option: "at") ?? Date(),
        held: held ? true : notHeld ? false : nil, timeZone: zone)
      try report(change, global: global)
    }
  }

  static func report(_ change: CaseChange, global: GlobalOptions) throws {
    if global.json {
      try global.output.print(json: CaseChangeJSON(change))
      return
    }
    let output = global.output
    let move = change.previousStatus == change.status
      ? change.status.rawValue : "\(change.previousStatus.rawValue) → \(output.bold(change.status.rawValue))"
    print("Logged \(change.entry.kind) on \(output.bold(change.document.id)) as \(change.entry.author): \(move)")
    if let held = change.held { print(held ? "  The fix held; the case is closed." : output.yellow("  The fix did not hold; the case is back in work.")) }
    if change.entry.kind == .resolved {
      if let answer = change.document.answer { print("  Fixed by answer \(answer).") }
      if let day = change.document.followUp { print("  Check back on \(day) (kb case due).") }
    }
    if change.entry.kind == .handoff, let who = change.document.assignee { print("  Now assigned to \(who).") }
  }

  // MARK: assign

  struct CaseAssign: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "assign",
      abstract: "Hand a case to another agent (a handoff entry in the journal).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The case's id.") var id: String
    @Argument(help: "The agent who takes it over.") var agent: String
    @Argument(help: "A note for the journal, such as why.") var words: [String] = []
    @Option(name: .customLong("as"), help: ArgumentHelp("Sign as \"Name <email>\" (default: the agent identity).", valueName: "author"))
    var author: String?
    @Option(help: "When it happened (ISO 8601; default: now).") var at: String?

    func validate() throws { _ = try parseTime(at, option: "at") }

    func run() throws {
      let workspace = try global.open()
      let change = try workspace.assign(
        caseID: id, to: agent, note: words.isEmpty ? nil : words.joined(separator: " "),
        author: try workspace.agentName(override: author), at: try parseTime(at, option: "at") ?? Date())
      try report(change, global: global)
    }
  }

  // MARK: resolve

  struct CaseResolve: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "resolve",
      abstract: "Resolve a case: link the answer that fixed it and set the follow-up day.",
      discussion: "The follow-up day is the resolution's calendar day in --tz plus the delay (default: follow_up in kb.yml).")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var timeZone: TimeZoneOption
    @Argument(help: "The case's id.") var id: String
    @Argument(help: "What fixed it, for the journal.") var words: [String] = []
    @Option(help: "The answer that fixed it (must exist).") var answer: String?
    @Option(name: .customLong("follow-up"), help: "Check back after this delay, such as 3d or 1w.") var followUp: String?
    @Option(name: .customLong("as"), help: ArgumentHelp("Sign as \"Name <email>\" (default: the agent identity).", valueName: "author"))
    var author: String?
    @Option(help: "When it was resolved (ISO 8601; default: now).") var at: String?

    func validate() throws {
      _ = try parseTime(at, option: "at")
      if let followUp, Duration.parseDays(followUp) == nil {
        throw ValidationError(CaseError.invalidDelay(followUp).description)
      }
    }

    func run() throws {
      let workspace = try global.open()
      let (zone, _) = try timeZone.zone()
      let change = try workspace.resolve(
        caseID: id, answer: answer, text: words.isEmpty ? nil : words.joined(separator: " "), followUp: followUp,
        author: try workspace.agentName(override: author), at: try parseTime(at, option: "at") ?? Date(), timeZone: zone)
      try report(change, global: global)
    }
  }

  // MARK: due

  struct CaseDue: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "due",
      abstract: "List resolved cases to check back on: due today and overdue, oldest first.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var timeZone: TimeZoneOption
    @Option(help: ArgumentHelp("The day to judge from, yyyy-mm-dd (default: today in --tz).", valueName: "day"))
    var today: String?
    @Option(help: ArgumentHelp("Only this agent's follow-ups: a handle, a full name, or @me.", valueName: "agent"))
    var assignee: String?

    func validate() throws {
      if let today, Timestamp.parse(today) == nil { throw ValidationError(CaseError.invalidDate(today).description) }
    }

    func run() throws {
      let workspace = try global.open()
      let list = try workspace.due(today: today, timeZone: try timeZone.choice(), assignee: assignee)
      let (day, name, due) = (list.today, list.timeZone, list.due)
      let names = workspace.settings.agents
      if global.json {
        try global.output.print(json: list)
        return
      }
      let output = global.output
      guard !due.isEmpty else {
        print("No follow-ups due on \(day).")
        return
      }
      print("\(due.count) follow-up(s) due on \(day) (\(name)):")
      for d in due {
        let when = d.daysOverdue == 0 ? output.green("today") : output.yellow("\(d.daysOverdue)d overdue")
        let who = [d.customer, d.assignee.map(names.displayName)].compactMap { $0 }.joined(separator: " · ")
        print("  \(d.followUp)  \(when)  \(output.bold(d.id))  \(d.title)\(who.isEmpty ? "" : "  " + output.dim(who))")
      }
      print(output.dim("Close the loop: kb case log ID --kind checked-back \"Held: …\" (or \"Did not hold: …\")"))
    }
  }

  // MARK: promote

  struct CasePromote: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "promote",
      abstract: "Turn a resolved case's fix into a new answer draft, linked from the case.",
      discussion: "The customer's words become a symptom, the journal's 'acted' entries the steps.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The case's id.") var id: String
    @Option(help: "The answer's title (default: the case's title or the customer's words).") var title: String?
    @Option(name: .customLong("id"), help: "The answer's id (default: from the title).") var answerID: String?
    @Option(name: .customLong("as"), help: ArgumentHelp("Author of the answer (default: the agent identity).", valueName: "author"))
    var author: String?

    func run() throws {
      let workspace = try global.open()
      let who = try? workspace.agentName(override: author)
      if author != nil, who == nil { _ = try workspace.agentName(override: author) }
      let (answer, document) = try workspace.promote(caseID: id, title: title, id: answerID, author: who)
      if global.json {
        struct Result: Codable { var answer: DocumentJSON; var `case`: DocumentJSON }
        try global.output.print(json: Result(answer: DocumentJSON(answer), case: DocumentJSON(document)))
        return
      }
      print("Created answer draft \(global.output.bold(answer.id)) (\(answer.path)) from case \(document.id).")
      print("  Edit it, then remove 'draft: true'. The case now links to it (answer: \(answer.id)).")
    }
  }

  // MARK: cases

  struct CasesList: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "cases",
      abstract: "List cases: your queue, saved views, response-time targets.",
      usage: "kb cases [--view NAME] [--status S]… [--assignee A|@me] [--unassigned] [--waiting] [--breached] [--at-risk] [--sort KEY] [filters…]",
      discussion: """
        Views saved in kb.yml (views: {mine: "status:active assignee:@me sort:waiting"}) run with \
        --view NAME; flags given with a view narrow or override it. --waiting lists the cases whose \
        customer waits for a reply, longest wait first. --breached and --at-risk use the \
        response-time targets of kb.yml (sla:). Full-text search over cases: kb search type:case WORDS.
        """)
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("A saved view from kb.yml.", valueName: "name"), completion: .custom(completeViews))
    var view: String?
    @Option(help: "Only this status (repeatable, or comma-separated); 'active' means not resolved or closed.")
    var status: [String] = []
    @Option(help: ArgumentHelp("Only cases assigned to this agent: a handle, a full name, or @me.", valueName: "agent"))
    var assignee: String?
    @Flag(help: "Only cases nobody is assigned to.") var unassigned = false
    @Flag(help: "Only cases whose customer waits for our reply, longest wait first.") var waiting = false
    @Flag(help: "Only active cases past a response-time target (sla: in kb.yml).") var breached = false
    @Flag(name: .customLong("at-risk"), help: "Only cases near a response-time deadline (sla.at_risk in kb.yml).")
    var atRisk = false
    @Option(help: "Only cases from this channel.") var channel: String?
    @Option(help: "Only this customer's cases (@handle).") var customer: String?
    @Option(help: "Only cases with this tag.") var tag: String?
    @Option(help: "Only cases fixed by this answer.") var answer: String?
    @Option(help: "Opened on or after this day (yyyy-mm-dd, UTC) or time.") var since: String?
    @Option(help: "Opened before this day (yyyy-mm-dd, UTC) or time.") var before: String?
    @Option(help: "Order: opened, updated, status, follow-up, waiting (longest first), due (nearest deadline first).")
    var sort: CaseView.Sort?
    @Flag(help: "Newest (or last) first.") var reverse = false
    @Option(name: .shortAndLong, help: "Maximum number of cases.") var limit: Int?

    /// The flags as a view (laid over --view).
    func flags() throws -> CaseView {
      var v = CaseView()
      do { v.statuses = try status.flatMap { try CaseView.statuses($0) } } catch { throw ValidationError("\(error)") }
      v.assignee = assignee
      v.unassigned = unassigned
      v.waiting = waiting
      v.breached = breached
      v.atRisk = atRisk
      v.channel = channel
      v.customer = customer
      v.tag = tag
      v.answer = answer
      v.since = since
      v.before = before
      v.sort = sort ?? (waiting ? .waiting : nil)
      v.reverse = reverse
      v.limit = limit
      return v
    }

    func validate() throws {
      _ = try flags()
      for (name, value) in [("since", since), ("before", before)] {
        if let value, Timestamp.parse(value) == nil { throw ValidationError("'--\(name) \(value)': \(CaseError.invalidDate(value).description)") }
      }
      if let limit, limit < 1 { throw ValidationError("'--limit' must be at least 1.") }
      if unassigned, assignee != nil { throw ValidationError("Pass --assignee or --unassigned, not both.") }
    }

    func run() throws {
      let workspace = try global.open()
      let base = try view.map(workspace.view(named:)) ?? CaseView()
      let rows = try workspace.caseQueue(base.overlaid(with: flags()))
      if global.json {
        try global.output.print(json: rows)
        return
      }
      let output = global.output
      guard !rows.isEmpty else {
        print("No cases match.")
        return
      }
      for c in rows { print(Self.line(c, output: output)) }
    }

    /// One case on one line: day, id, title, then status, assignee (by name), customer,
    /// channel, follow-up, how long the customer has waited, and the time left on its targets.
    static func line(_ c: CaseRow, output: Output) -> String {
      var detail = [c.status]
      if let name = c.assigneeName { detail.append(name) }
      detail += [c.customer, c.channel, c.followUp.map { "follow-up \($0)" }].compactMap { $0 }
      var line = "\(c.opened.map { String($0.prefix(10)) } ?? "          ")  \(output.bold(c.id))  \(c.title)  \(output.dim(detail.joined(separator: " · ")))"
      if let wait = c.waitingSeconds { line += output.dim(" · ") + output.yellow("waiting \(CaseFigures.human(wait))") }
      if let state = c.slaState, let left = c.secondsLeft {
        let text = left < 0 ? "SLA breached \(CaseFigures.human(-left)) ago" : "\(CaseFigures.human(left)) left"
        line += output.dim(" · ") + (state == "breached" ? output.red(text) : state == "at-risk" ? output.yellow(text) : text)
      } else if c.slaState == "breached" {
        line += output.dim(" · ") + output.red("SLA missed")
      }
      return line
    }
  }

  // MARK: stats

  struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "stats",
      abstract: "Team figures: cases opened and resolved, response and resolution times, follow-ups, answers.",
      discussion: """
        Over the cases opened since --since (all by default). First response: the first \
        acknowledged, acted or offline entry. Follow-ups: checked back on or before the day \
        (on time), after it (late), or not yet (pending; overdue when the day has passed). \
        Answers: cases that link them, and check backs where the fix held or did not.
        """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var timeZone: TimeZoneOption
    @Option(help: ArgumentHelp("Only cases opened on or after this day (yyyy-mm-dd in --tz).", valueName: "day"))
    var since: String?
    @Option(help: ArgumentHelp("Only cases opened before this day (yyyy-mm-dd in --tz).", valueName: "day"))
    var until: String?
    @Option(help: "Also break the figures down: 'agent' (by assignee).") var by: String?
    @Option(help: "The day to judge overdue follow-ups from (default: today in --tz).") var today: String?

    func validate() throws {
      for (name, value) in [("since", since), ("until", until), ("today", today)] {
        if let value, Timestamp.parse(value) == nil { throw ValidationError("'--\(name) \(value)': \(CaseError.invalidDate(value).description)") }
      }
      if let by, by.lowercased() != "agent" { throw ValidationError("'--by \(by)': only '--by agent' is supported.") }
    }

    func run() throws {
      let workspace = try global.open()
      let (zone, name) = try timeZone.zone()
      let day = try today.map(FollowUp.parseDay) ?? FollowUp.day(of: Date(), in: zone)
      var stats = try workspace.caseStats(
        since: try since.map(FollowUp.parseDay), until: try until.map(FollowUp.parseDay), byAgent: by != nil,
        today: day, timeZone: zone)
      stats.timeZone = name
      if global.json {
        try global.output.print(json: stats)
        return
      }
      let output = global.output
      let period = [stats.since.map { "since \($0)" }, stats.until.map { "before \($0)" }].compactMap { $0 }
      print(output.bold("Cases\(period.isEmpty ? "" : " opened " + period.joined(separator: ", "))") + output.dim("  (\(name), today \(day))"))
      Self.printFigures(stats.figures, output: output, indent: "  ")
      print("  customers helped: \(stats.customersHelped)" + output.dim(" (distinct customers with a case resolved \(period.isEmpty ? "ever" : period.joined(separator: ", ")))"))
      if let sla = stats.serviceLevels {
        func share(_ s: ServiceLevelFigures.Share) -> String {
          let pct = s.share.map { "\(Int(($0 * 100).rounded()))%" } ?? "–"
          return "\(pct) met (\(s.met) met, \(s.breached) missed\(s.pending > 0 ? ", \(s.pending) pending" : ""))"
        }
        print(output.bold("Response-time targets"))
        print("  first response: \(share(sla.firstResponse))")
        print("  resolution: \(share(sla.resolution))")
        for (title, groups) in [("by agent", sla.byAgent), ("by week", sla.byWeek)] where !groups.isEmpty {
          print("  \(title):")
          for g in groups { print("    \(g.key)  first response \(share(g.firstResponse)); resolution \(share(g.resolution))") }
        }
      }
      if let agents = stats.byAgent {
        for a in agents {
          print(output.bold("\(a.agent)"))
          Self.printFigures(a.figures, output: output, indent: "  ", answers: false)
        }
      }
    }

    static func printFigures(_ f: CaseFigures, output: Output, indent: String, answers: Bool = true) {
      print("\(indent)opened \(f.opened), resolved \(f.resolved)")
      print("\(indent)median first response \(CaseFigures.human(f.medianFirstResponse)) (\(f.responded) answered), median time to resolution \(CaseFigures.human(f.medianResolution))")
      let u = f.followUps
      print("\(indent)follow-ups: \(u.onTime) on time, \(u.late) late, \(u.pending) pending\(u.overdue > 0 ? output.yellow(" (\(u.overdue) overdue)") : "")")
      guard answers, !f.answers.isEmpty else { return }
      print("\(indent)answers:")
      for a in f.answers {
        let rate = a.heldRate.map { " (\(Int(($0 * 100).rounded()))%)" } ?? ""
        let checks = a.held + a.notHeld == 0 ? "no check back yet" : "held \(a.held) of \(a.held + a.notHeld)\(rate)"
        print("\(indent)  \(output.bold(a.answer))  used \(a.used), \(checks)")
      }
    }
  }
}

extension CaseListQuery.Sort: ExpressibleByArgument {}
extension CaseView.Sort: ExpressibleByArgument {}
