/// Which documents a listing shows: `kb list`'s flags and MCP `list_cases`' arguments, turned
/// into index filters in one place.
public struct DocumentFilter: Equatable, Sendable {
  public var type: DocumentType?
  public var status: CaseStatus?
  public var tag: String?
  public var assignee: String?
  public var channel: String?
  public var customer: String?
  public var answer: String?

  public init(
    type: DocumentType? = nil, status: CaseStatus? = nil, tag: String? = nil, assignee: String? = nil,
    channel: String? = nil, customer: String? = nil, answer: String? = nil
  ) {
    self.type = type
    self.status = status
    self.tag = tag
    self.assignee = assignee
    self.channel = channel
    self.customer = customer
    self.answer = answer
  }

  /// The filters, as a search query's `type:` `status:` … words would give them.
  public var filters: [SearchQuery.Filter] {
    var filters: [SearchQuery.Filter] = []
    if let type { filters.append(.type(type)) }
    if let status { filters.append(.status(status)) }
    if let tag { filters.append(.tag(tag)) }
    if let assignee { filters.append(.assignee(assignee)) }
    if let channel { filters.append(.channel(channel)) }
    if let customer { filters.append(.customer(customer)) }
    if let answer { filters.append(.answer(answer)) }
    return filters
  }
}
