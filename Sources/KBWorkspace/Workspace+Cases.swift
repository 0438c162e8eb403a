import Foundation
import KBCore
internal import KBStore

/// An open case that looks like the same problem as a new mention.
public struct SimilarCase: Equatable, Sendable, Codable {
  public var id: String
  public var path: String
  public var title: String
  public var status: String
  public var customer: String?
  /// The significant words the two complaints share (stems).
  public var shared: [String]
}

/// A case just opened, with the open cases that look like the same problem.
public struct OpenedCase: Sendable {
  public var document: Document
  public var similar: [SimilarCase]
}

/// A journal entry just appended, with the status move it made.
public struct CaseChange: Sendable {
  public var document: Document
  public var entry: JournalEntry
  public var previousStatus: CaseStatus
  public var status: CaseStatus
  /// For a check back: whether the fix held.
  public var held: Bool?
}

/// A resolved case whose follow-up day has come.
public struct DueFollowUp: Equatable, Sendable, Codable {
  public var id: String
  public var path: String
  public var title: String
  public var customer: String?
  public var channel: String?
  public var assignee: String?
  public var answer: String?
  public var followUp: String
  /// 0 when due today.
  public var daysOverdue: Int

  enum CodingKeys: String, CodingKey {
    case id, path, title, customer, channel, assignee, answer
    case followUp = "follow_up"
    case daysOverdue = "days_overdue"
  }
}

/// The follow-ups due (`kb case due --json`, MCP `cases_due`).
public struct DueList: Codable, Equatable, Sendable {
  public var today: String
  public var timeZone: String
  public var due: [DueFollowUp]
  enum CodingKeys: String, CodingKey { case today, due; case timeZone = "time_zone" }
}

/// `kb stats`: the figures of the whole team, and per agent when asked.
public struct CaseStats: Equatable, Sendable, Codable {
  public struct Agent: Equatable, Sendable, Codable {
    public var agent: String
    public var figures: CaseFigures
  }
  public var since: String?
  /// The period's end (excluded), when one was given.
  public var until: String?
  public var today: String
  public var timeZone: String
  public var figures: CaseFigures
  public var byAgent: [Agent]?
  /// Distinct customers with a case resolved in the period.
  public var customersHelped: Int
  /// Shares of cases meeting the response-time targets (only when kb.yml sets `sla:`).
  public var serviceLevels: ServiceLevelFigures?

  enum CodingKeys: String, CodingKey {
    case since, until, today, figures
    case timeZone = "time_zone"
    case byAgent = "by_agent"
    case customersHelped = "customers_helped"
    case serviceLevels = "service_levels"
  }
}

extension Workspace {
  // MARK: Reading

  /// The case with this id, read from its file.
  public func caseDocument(id: String) throws -> Document {
    let document = try self.document(id: id)
    guard document.type == .case else {
      throw WorkspaceError.invalidInput("'\(id)' is an answer, not a case. Run 'kb cases' to list cases.")
    }
    return document
  }

  /// The journal author for this knowledge base: `override` (`Name <email>` or a name), else the
  /// agent identity (`.kb/identity`, git config).
  public func agentName(override: String? = nil) throws -> String {
    let identity: Identity?
    if let override {
      guard let parsed = Identity(parsing: override) else {
        throw WorkspaceError.invalidInput("'\(override)' is not an author: use \"Name\" or \"Name <email>\".")
      }
      identity = parsed
    } else {
      identity = Identity.current(in: root)
    }
    guard let name = identity?.name else {
      throw WorkspaceError.invalidInput(
        "Who is writing? Set 'git config user.name', write 'name = …' in .kb/identity, or pass --as \"Name <email>\".")
    }
    if let problem = Identity.nameProblem(name) {
      throw WorkspaceError.invalidInput("\(problem): '\(name)'.")
    }
    return name
  }

  // MARK: Opening

  /// Open cases (open, acknowledged, offline, escalated) whose complaint shares at least two
  /// significant words (or every one, for a very short text) with `text`. Uses the FTS5 index.
  public func similarOpenCases(to text: String, excluding: Set<String> = [], limit: Int = 5) throws -> [SimilarCase] {
    try similarOpenCases(to: text, excluding: excluding, limit: limit, batch: nil)
  }

  /// With `batch`, the cases the batch opened so far (not yet in the index) count too, after
  /// the indexed ones: a bounded look at the latest that share a word, so that a batch of
  /// mentions costs the same per mention however long it is.
  func similarOpenCases(to text: String, excluding: Set<String>, limit: Int, batch: IntakeBatch?) throws -> [SimilarCase] {
    let brand = brandWords
    let words = Self.significantWords(text).filter { !brand.contains($0) }
    guard !words.isEmpty else { return [] }
    let query = SearchQuery(terms: words.map { .word($0) })
    guard let pattern = query.matchPattern(.any) else { return [] }
    let stems = Set(words.map(Self.stem))
    let needed = min(2, stems.count)
    var out: [SimilarCase] = []
    // One query per active status, so that thousands of closed cases never crowd out the open
    // ones (ranked without snippets: only ids and titles are needed).
    let active = CaseStatus.allCases.filter { CaseLifecycle.active.contains($0) }.map(\.rawValue)
    for hit in try store.caseCandidates(pattern, statuses: active, limit: 20) {
      guard out.count < limit else { break }
      guard !excluding.contains(hit.id), let status = CaseStatus(rawValue: hit.status),
        CaseLifecycle.active.contains(status)
      else { continue }
      // A batch reads each indexed case once, however many of its mentions it comes up for.
      let known: (stems: Set<String>, customer: String?)
      if let cached = batch?.indexedCases[hit.path] {
        known = cached
      } else {
        guard let document = try? readDocument(at: hit.path) else { continue }
        known = (caseStems(document, brand: brand), document.customer)
        batch?.indexedCases[hit.path] = known
      }
      let shared = stems.intersection(known.stems)
      guard shared.count >= needed else { continue }
      out.append(SimilarCase(
        id: hit.id, path: hit.path, title: hit.title, status: status.rawValue, customer: known.customer,
        shared: shared.sorted()))
    }
    if let batch, out.count < limit {
      for c in batch.similar(to: stems, needed: needed) where !excluding.contains(c.id) {
        guard out.count < limit else { break }
        out.append(c)
      }
    }
    return out
  }

  /// The significant words (stems) of a case's complaint and title, without the brand.
  func caseStems(_ document: Document, brand: Set<String>) -> Set<String> {
    Set(Self.significantWords((document.complaint ?? "") + "\n" + document.title).filter { !brand.contains($0) }.map(Self.stem))
  }

  /// The team's own brand: the words of its name and handles, and words shared by several
  /// product names ("Northwind" in "Northwind TV", "Northwind Hub router"). Two complaints that
  /// both name the brand are not the same problem for that.
  var brandWords: Set<String> {
    var out = Set(SearchQuery.words(in: settings.team))
    for handle in settings.handles {
      let name = handle.split(separator: "@", omittingEmptySubsequences: true).first.map(String.init) ?? handle
      out.formUnion(SearchQuery.words(in: name))
    }
    var counts: [String: Int] = [:]
    for product in settings.products { for w in Set(SearchQuery.words(in: product)) { counts[w, default: 0] += 1 } }
    out.formUnion(counts.filter { $0.value >= 2 }.keys)
    return out
  }

  /// The case already opened from this mention: the same `source` (its link, or the platform's
  /// id as ``Mention/sourceKey`` writes it when there is no link). Looked up among the cases
  /// opened at the post's time, else the author's cases, else the channel's.
  /// `nil` for a mention with neither a link nor a platform id.
  public func existingCase(for mention: Mention) throws -> String? {
    try existingCase(for: mention, batch: nil)
  }

  /// In a batch: every case's `source` (``IntakeBatch/sources``) answers for a mention with
  /// neither an author nor a time instead of reading the channel's cases again for each
  /// mention, and the cases of an author or a time come from ``IntakeBatch/directory`` (read
  /// once) instead of a look at every case per mention.
  func existingCase(for mention: Mention, batch: IntakeBatch?) throws -> String? {
    let mention = mention.normalized()
    guard let key = mention.sourceKey else { return nil }
    if mention.author == nil, mention.createdAt == nil, let sources = batch?.sources { return sources[key] }
    if let directory = batch?.directory, mention.author != nil || mention.createdAt != nil {
      var paths: [String] = []
      if let created = mention.createdAt {
        paths += directory.opened(since: Timestamp.format(created), before: Timestamp.format(created.addingTimeInterval(1)))
      }
      if let author = mention.author { paths += directory.cases(of: author) }
      for path in paths {
        if let document = try? readDocument(at: path), document.source == key { return document.id }
      }
      return nil
    }
    var queries: [CaseListQuery] = []
    if let created = mention.createdAt {
      var q = CaseListQuery()
      q.since = Timestamp.format(created)
      q.before = Timestamp.format(created.addingTimeInterval(1))
      queries.append(q)
    }
    if let author = mention.author {
      var q = CaseListQuery()
      q.customer = author
      queries.append(q)
    }
    if mention.author == nil, mention.createdAt == nil {
      var q = CaseListQuery()
      q.channel = mention.channel
      queries.append(q)
    }
    for query in queries {
      for candidate in try store.cases(query) {
        if let document = try? readDocument(at: candidate.path), document.source == key { return document.id }
      }
    }
    return nil
  }

  /// Whether this mention should open no case, and why: posted by the team's own account, or
  /// already opened.
  public func skipReason(for mention: Mention) throws -> CaseIntake.Skipped? {
    try skipReason(for: mention, batch: nil)
  }

  func skipReason(for mention: Mention, batch: IntakeBatch?) throws -> CaseIntake.Skipped? {
    let mention = mention.normalized()
    if let ours = settings.ownHandle(mention.author, channel: mention.channel) {
      return CaseIntake.Skipped(
        reason: "own-account", message: "Posted by our own account \(ours): no case opened.", id: nil,
        source: mention.sourceKey, author: mention.author)
    }
    if let existing = try existingCase(for: mention, batch: batch) {
      return CaseIntake.Skipped(
        reason: "already-opened", message: "Already opened as case \(existing): \(mention.sourceKey ?? "")", id: existing,
        source: mention.sourceKey, author: mention.author)
    }
    return nil
  }

  /// Opens a case for each mention that needs one, in order: a post by our own account or one
  /// already opened (the same link or platform id) is skipped with its reason, so running the
  /// same input twice opens nothing new. Nothing is written when an argument is bad.
  public func openCases(
    from mentions: [Mention], related: [String] = [], assignee: String? = nil, tags: [String] = [],
    id: String? = nil, title: String? = nil, now: Date = Date()
  ) throws -> CaseIntake {
    if id != nil, mentions.count > 1 {
      throw WorkspaceError.invalidInput("'--id' names one case, but the input holds \(mentions.count) mentions.")
    }
    var opened: [OpenedCase] = []
    var skipped: [CaseIntake.Skipped] = []
    var seen: [String: String] = [:]
    // What the mentions share, so that each costs the same however long the batch is: the
    // cases are indexed together at the end (one transaction), ids and similar cases of the
    // batch are kept in memory, and mentions with neither an author nor a time are looked up
    // in one map of every case's source, read once.
    let batch = IntakeBatch()
    if mentions.count > 1, mentions.contains(where: { $0.author == nil && $0.createdAt == nil && $0.sourceKey != nil }) {
      var map: [String: String] = [:]
      for c in try store.cases(CaseListQuery()) {
        if let source = try? readDocument(at: c.path).source { map[source] = c.id }
      }
      batch.sources = map
    }
    // Every case's customer and opening time, read once, for the look-ups by author and time.
    if mentions.count >= IntakeBatch.directoryFrom {
      batch.directory = CaseDirectory(try store.cases(CaseListQuery()))
    }
    // Whatever happens to a later mention, the cases written are indexed.
    defer { try? flush(batch) }
    for mention in mentions.map({ $0.normalized() }) {
      if let reason = try skipReason(for: mention, batch: batch) {
        skipped.append(reason)
        continue
      }
      // The same post twice in one input.
      if let key = mention.sourceKey, let first = seen[key] {
        skipped.append(CaseIntake.Skipped(
          reason: "already-opened", message: "The same post appears twice in the input; opened once as case \(first).",
          id: first, source: key, author: mention.author))
        continue
      }
      let new = try openCase(
        from: mention, related: related, assignee: assignee, tags: tags, id: id, title: title, now: now, batch: batch)
      if let key = mention.sourceKey {
        seen[key] = new.document.id
        batch.sources?[key] = new.document.id
      }
      opened.append(new)
    }
    try flush(batch)
    return CaseIntake(opened: opened, skipped: skipped)
  }

  /// Indexes the cases a batch wrote, in one transaction.
  private func flush(_ batch: IntakeBatch) throws {
    let changes = batch.takeChanges()
    guard !changes.isEmpty else { return }
    try withIndexLock { try store.apply(changes) }
  }

  /// Opens a case from a mention: writes `cases/yyyy/mm/<id>.md` with the customer's words, and
  /// returns it with the open cases that look like the same problem (found before writing).
  ///
  /// The mention is normalized first (``Mention/normalized()``); its link, else its platform id
  /// (``Mention/sourceKey``), becomes `source`.
  ///
  /// - Throws: for a post by the team's own account (`handles` in kb.yml) or one already opened.
  /// - Parameters:
  ///   - related: ids of cases (or answers) this one is linked to; each must exist.
  ///   - now: the opening time when the mention has none.
  public func openCase(
    from mention: Mention, related: [String] = [], assignee: String? = nil, tags: [String] = [],
    id: String? = nil, title: String? = nil, now: Date = Date()
  ) throws -> OpenedCase {
    try openCase(from: mention, related: related, assignee: assignee, tags: tags, id: id, title: title, now: now, batch: nil)
  }

  func openCase(
    from mention: Mention, related: [String], assignee: String?, tags: [String], id: String?, title: String?,
    now: Date, batch: IntakeBatch?
  ) throws -> OpenedCase {
    let mention = mention.normalized()
    var related = related
    for (i, target) in related.enumerated() {
      do { related[i] = try resolveID(target) } catch let error as WorkspaceError {
        throw WorkspaceError.invalidInput("--related \(target): \(error.description)")
      }
    }
    try Self.checkMentionSize(mention.text)
    guard !mention.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
      throw WorkspaceError.invalidInput("The mention has no text: a case starts from the customer's words.")
    }
    if let ours = settings.ownHandle(mention.author, channel: mention.channel) {
      throw WorkspaceError.invalidInput("This post is by our own account \(ours) (handles in kb.yml): no case is opened for it.")
    }
    return try withWriteLock {
      if let existing = try existingCase(for: mention, batch: batch) {
        throw WorkspaceError.invalidInput(
          "This mention (\(mention.sourceKey ?? "")) was already opened as case '\(existing)'. Run 'kb show \(existing)'.")
      }
      let similar = try similarOpenCases(to: mention.text, excluding: Set(related), limit: 5, batch: batch)
      let document = try newCase(
        complaint: mention.text, id: id, customer: mention.author ?? mention.authorID, channel: mention.channel,
        source: mention.sourceKey,
        opened: mention.createdAt ?? now, assignee: assignee, tags: tags, related: related, title: title, batch: batch)
      if let batch {
        let record = try writeFile(document, creating: true)
        batch.add(record, similar: SimilarCase(
          id: document.id, path: document.path, title: document.title, status: CaseStatus.open.rawValue,
          customer: document.customer, shared: []), stems: caseStems(document, brand: brandWords))
      } else {
        try write(document, creating: true)
      }
      return OpenedCase(document: document, similar: similar)
    }
  }

  // MARK: Journal

  /// Appends a signed entry to a case's journal and moves its status, under the write lock.
  ///
  /// The entry is inserted at the end of the `## Journal` section and the `status` line is
  /// edited in place: every other byte of the file (hand formatting, malformed journal lines,
  /// unknown fields) is kept. A `resolved` entry also sets `follow_up` (see
  /// ``resolve(caseID:answer:text:followUp:author:at:timeZone:)``); `reopened` clears it.
  ///
  /// - Throws: ``CaseError`` for a move the lifecycle refuses, an unknown kind, or a check back
  ///   that does not say whether the fix held.
  @discardableResult
  public func log(
    caseID: String, kind: JournalEntry.Kind, text: String, author: String, at time: Date = Date(),
    held: Bool? = nil, timeZone: TimeZone = TimeZone(secondsFromGMT: 0)!
  ) throws -> CaseChange {
    guard kind.isKnown, kind != .merge else { throw CaseError.unknownKind(kind.rawValue) }
    if kind == .resolved {
      return try resolve(caseID: caseID, text: text, author: author, at: time, timeZone: timeZone)
    }
    guard held == nil || kind == .checkedBack else {
      throw WorkspaceError.invalidInput("--held and --not-held go with --kind checked-back only.")
    }
    var text = text.trimmingCharacters(in: .whitespacesAndNewlines)
    var heldValue: Bool?
    if kind == .checkedBack {
      let recorded = try CheckBack.record(text, held: held)
      text = recorded.text
      heldValue = recorded.held
    }
    guard !text.isEmpty else {
      throw WorkspaceError.invalidInput("Say what happened: kb case log \(caseID) --kind \(kind) \"text\".")
    }
    return try withWriteLock {
      try append(JournalEntry(time: time, author: author, kind: kind, text: text), to: caseID, held: heldValue) { fm in
        if kind == .reopened { fm.set("follow_up", to: nil) }
      }
    }
  }

  /// Hands a case to another agent: a `handoff` entry and the new `assignee`.
  @discardableResult
  public func assign(
    caseID: String, to agent: String, note: String? = nil, author: String, at time: Date = Date()
  ) throws -> CaseChange {
    let agent = agent.trimmingCharacters(in: .whitespaces)
    guard !agent.isEmpty, !agent.contains("\n") else {
      throw WorkspaceError.invalidInput("Name the agent to hand the case to: kb case assign \(caseID) AGENT.")
    }
    return try withWriteLock {
      let current = try caseDocument(id: caseID)
      if let previous = current.assignee, previous.lowercased() == agent.lowercased() {
        throw WorkspaceError.invalidInput("Case '\(caseID)' is already assigned to \(previous).")
      }
      var text = current.assignee.map { "Handed from \($0) to \(agent)" } ?? "Assigned to \(agent)"
      if let note = note?.trimmingCharacters(in: .whitespacesAndNewlines), !note.isEmpty { text += ": " + note }
      return try append(JournalEntry(time: time, author: author, kind: .handoff, text: text), to: caseID, held: nil) {
        $0.set("assignee", to: agent)
      }
    }
  }

  /// Resolves a case: a `resolved` entry, `status: resolved`, the fixing `answer` (which must be
  /// an existing answer) and `follow_up`, the day `followUp` (default: `kb.yml`'s `follow_up`)
  /// after `time` in `timeZone`.
  @discardableResult
  public func resolve(
    caseID: String, answer: String? = nil, text: String? = nil, followUp: String? = nil, author: String,
    at time: Date = Date(), timeZone: TimeZone = TimeZone(secondsFromGMT: 0)!
  ) throws -> CaseChange {
    let answer = try answer.map { typed in
      do { return try resolveID(typed, type: .answer) } catch WorkspaceError.documentNotFound {
        throw WorkspaceError.invalidInput("--answer \(typed): no answer has that id. Run 'kb search type:answer …' to find it.")
      } catch let error as WorkspaceError {
        throw WorkspaceError.invalidInput("--answer \(typed): \(error.description)")
      }
    }
    if let answer {
      guard let summary = try store.summary(id: answer) else {
        throw WorkspaceError.invalidInput("--answer \(answer): no answer has that id. Run 'kb search type:answer …' to find it.")
      }
      guard summary.type == .answer else {
        throw WorkspaceError.invalidInput("--answer \(answer) is a case, not an answer.")
      }
    }
    let delay = followUp ?? settings.followUp
    let day = try FollowUp.date(after: time, delay: delay, in: timeZone)
    var words = text?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    if words.isEmpty { words = "Resolved." }
    if let answer, CaseFigures.linkedAnswer(in: words) != answer {
      // "…manually. Fix: [[id]]." — a sentence of its own, never glued to the agent's text.
      if let last = words.last, !".!?…".contains(last) { words += "." }
      words += " Fix: [[\(answer)]]."
    }
    return try withWriteLock {
      try append(JournalEntry(time: time, author: author, kind: .resolved, text: words), to: caseID, held: nil) { fm in
        if let answer { fm.set("answer", to: answer) }
        fm.set("follow_up", to: day)
      }
    }
  }

  /// Re-reads the case, checks the move, appends, edits, writes. Call holding the write lock.
  private func append(
    _ entry: JournalEntry, to caseID: String, held: Bool?, edit: (inout FrontMatter) -> Void
  ) throws -> CaseChange {
    // The file keeps whole seconds: the entry returned is the one read back (with its line).
    var entry = entry
    entry.time = Date(timeIntervalSince1970: entry.time.timeIntervalSince1970.rounded(.down))
    let original = try caseDocument(id: caseID)
    var document = try Self.withLineFeeds(original)
    let previous = document.status ?? .open
    let next = try CaseLifecycle.next(after: previous, kind: entry.kind, held: held, caseID: document.id)
    document.append(entry)
    document.edit { fm in
      if next != previous || fm.string("status") == nil { fm.set("status", to: next.rawValue) }
      edit(&fm)
    }
    document = try Self.restoringLineEnds(document, like: original)
    try write(document)
    return CaseChange(document: document, entry: entry, previousStatus: previous, status: next, held: held)
  }

  // MARK: Follow-ups

  /// `kb case due`, MCP `cases_due`: resolved cases whose follow-up day is `today` (default: today
  /// in the zone) or earlier, oldest first.
  /// `assignee`: only that agent's (a handle, a full name, or `@me`).
  public func due(today: String? = nil, timeZone: TimeZoneChoice, assignee: String? = nil) throws -> DueList {
    let day = try today.map(FollowUp.parseDay) ?? FollowUp.day(of: Date(), in: timeZone.zone)
    return DueList(today: day, timeZone: timeZone.name, due: try dueFollowUps(today: day, assignee: assignee))
  }

  /// Resolved cases whose follow-up day is `today` or earlier, oldest first.
  public func dueFollowUps(today: String, assignee: String? = nil) throws -> [DueFollowUp] {
    var query = CaseListQuery()
    query.statuses = [.resolved]
    query.followUpBy = today
    query.sort = .followUp
    let agent = try assignee.map(agent)
    return try store.cases(query).compactMap { c in
      guard let day = c.followUp else { return nil }
      if let agent, !isAssigned(c.assignee, to: agent) { return nil }
      return DueFollowUp(
        id: c.id, path: c.path, title: CaseRow.oneLine(c.title), customer: c.customer, channel: c.channel, assignee: c.assignee,
        answer: c.answer, followUp: day, daysOverdue: max(0, FollowUp.days(from: day, to: today) ?? 0))
    }
  }

  // MARK: Promote

  /// Turns a resolved case's fix into a new answer draft: the customer's words become a symptom,
  /// the journal's `acted` entries (else its `resolved` entries) the steps, and the case links
  /// to the answer through `answer`. Both files are written under the write lock.
  public func promote(
    caseID: String, title: String? = nil, id: String? = nil, author: String?, now: Date = Date()
  ) throws -> (answer: Document, case: Document) {
    try withWriteLock {
      var document = try caseDocument(id: caseID)
      let status = document.status ?? .open
      guard status == .resolved || status == .closed else {
        throw CaseError.promoteUnresolved(id: document.id, status: status)
      }
      if let existing = document.answer, try store.summary(id: existing)?.type == .answer {
        throw CaseError.alreadyAnswered(id: document.id, answer: existing)
      }
      let entries = document.journal.sorted
      var steps = entries.filter { $0.kind == .acted }.map(\.text)
      if steps.isEmpty { steps = entries.filter { $0.kind == .resolved }.map(\.text) }
      steps = steps.map { FixSteps.imperative($0.replacingOccurrences(of: "\n", with: " ")) }
        .filter { !$0.isEmpty }
      guard !steps.isEmpty else { throw CaseError.nothingToPromote(id: document.id) }
      let words = Self.customerWords(document.complaint ?? document.title)
      let answerTitle = title ?? document.frontMatter.string("title") ?? String(words.prefix(80))
      let answerID = id ?? Document.slug(answerTitle)
      if try !store.paths(forID: answerID).isEmpty {
        throw WorkspaceError.alreadyExists(path: "answers/\(answerID).md")
      }
      var body = "## Fix\n"
      for (i, step) in steps.enumerated() { body += "\(i + 1). \(step)\n" }
      var origin = "[[\(document.id)]]"
      if let customer = document.customer { origin += ", \(customer)" }
      if let opened = document.opened { origin += ", \(Timestamp.day(opened))" }
      body += "\n## Learned from\n- Case \(origin)\n"
      var answer = try newAnswer(
        title: answerTitle, id: answerID, tags: document.tags, symptoms: words.isEmpty ? [] : [words],
        body: body, author: author, now: now)
      answer.edit {
        $0.set("draft", to: "true")
        $0.set("source_case", to: document.id)
      }
      try write(answer, creating: true)
      let original = document
      document = try Self.withLineFeeds(document)
      document.edit { $0.set("answer", to: answerID) }
      document = try Self.restoringLineEnds(document, like: original)
      try write(document)
      return (answer, document)
    }
  }

  // MARK: Figures

  /// Team figures from the index (see ``CaseFigures``), for cases opened since `since`.
  public func caseStats(
    since: String? = nil, until: String? = nil, byAgent: Bool = false, today: String, timeZone: TimeZone,
    now: Date = Date()
  ) throws -> CaseStats {
    var facts = try store.caseFacts()
    let all = facts
    if let until {
      facts.removeAll { c in c.opened.map { FollowUp.day(of: $0, in: timeZone) >= until } ?? false }
    }
    var stats = CaseStats(
      since: since, until: until, today: today, timeZone: timeZone.identifier,
      figures: CaseFigures(cases: facts, since: since, today: today, timeZone: timeZone),
      customersHelped: ServiceLevelFigures.customersHelped(all, since: since, until: until, timeZone: timeZone))
    if !settings.serviceTargets.isEmpty {
      stats.serviceLevels = ServiceLevelFigures(
        cases: facts, targets: settings.serviceTargets, roster: settings.agents, since: since, until: until,
        timeZone: timeZone, now: now)
    }
    if byAgent {
      // Grouped by the assignee as written, then by name (one name lookup per assignee).
      var groups: [String: [CaseFacts]] = [:]
      for (assignee, cases) in Dictionary(grouping: facts, by: \.assignee) {
        groups[assignee.map(settings.agents.displayName) ?? "(unassigned)", default: []] += cases
      }
      stats.byAgent = groups.keys.sorted().map { agent in
        CaseStats.Agent(
          agent: agent, figures: CaseFigures(cases: groups[agent]!, since: since, today: today, timeZone: timeZone))
      }.filter { $0.figures.opened > 0 }
    }
    return stats
  }

  // MARK: Line ends

  /// A file saved with CRLF line ends (a Windows editor), read with LF ones so that the journal
  /// and front-matter edits see its lines; ``restoringLineEnds(_:like:)`` puts the CRLFs back.
  static func withLineFeeds(_ document: Document) throws -> Document {
    guard document.text.contains("\r\n") else { return document }
    return try reparsed(document, text: document.text.replacingOccurrences(of: "\r\n", with: "\n"))
  }

  static func restoringLineEnds(_ document: Document, like original: Document) throws -> Document {
    guard original.text.contains("\r\n") else { return document }
    return try reparsed(document, text: document.text.replacingOccurrences(of: "\n", with: "\r\n"))
  }

  private static func reparsed(_ document: Document, text: String) throws -> Document {
    do {
      return try Document(path: document.path, text: text)
    } catch {
      throw WorkspaceError.invalidDocument(path: document.path, line: error.line, reason: error.description)
    }
  }

  // MARK: Words

  static let stopWords: Set<String> = [
    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "anyone", "are", "as", "at", "be",
    "been", "but", "by", "can", "cant", "could", "did", "do", "does", "doesn", "don", "dont", "for", "from", "get",
    "got", "had", "has", "have", "help", "her", "him", "his", "how", "i", "if", "im", "in", "into", "is", "it", "its",
    "just", "keep", "keeps", "know", "like", "me", "my", "no", "not", "now", "of", "on", "one", "or", "our", "out",
    "please", "re", "really", "s", "same", "so", "still", "t", "than", "that", "the", "their", "them", "then",
    "there", "this", "to", "too", "up", "us", "ve", "was", "we", "were", "what", "when", "which", "who", "why",
    "will", "with", "won", "would", "you", "your", "yours", "anybody", "does", "stop", "https", "http", "www",
    "com",
  ]

  /// The words of a complaint worth matching on: no handles, links, stop words or short words.
  static func significantWords(_ text: String) -> [String] {
    let cleaned = text.split(whereSeparator: \.isWhitespace)
      .filter { !$0.hasPrefix("@") && !$0.hasPrefix("http://") && !$0.hasPrefix("https://") }
      .joined(separator: " ")
    var seen = Set<String>()
    return SearchQuery.words(in: cleaned).filter {
      $0.count >= 3 && !stopWords.contains($0) && Int($0) == nil && seen.insert($0).inserted
    }
  }

  /// A crude stem, enough to see that "repeating" and "repeats" are the same word.
  static func stem(_ word: String) -> String {
    for suffix in ["ing", "edly", "ed", "es", "ly", "s"] where word.count > suffix.count + 3 && word.hasSuffix(suffix) {
      return String(word.dropLast(suffix.count))
    }
    return word
  }

  /// A complaint as a symptom: links and leading @handles removed, on one line.
  static func customerWords(_ text: String) -> String {
    var words = text.split(whereSeparator: \.isWhitespace).map(String.init)
    while let first = words.first, first.hasPrefix("@") { words.removeFirst() }
    return words.filter { !$0.hasPrefix("http://") && !$0.hasPrefix("https://") }.joined(separator: " ")
  }
}
