import Foundation
import KBCore
import KBWorkspace

/// The queue's filters, from the page's query string (`mine=1&unassigned=1&channel=C&status=S`,
/// `offset=`, `limit=`).
struct QueueFilter: Equatable, Sendable, Codable {
  /// Only cases assigned to the signing agent.
  var mine = false
  /// Only cases nobody is assigned to.
  var unassigned = false
  var channel: String?
  /// One active status; `nil` means every active one (open, acknowledged, offline, escalated).
  var status: CaseStatus?
  var limit = 100
  var offset = 0

  /// The same selection in the case-view language `kb cases` and kb.yml's `views:` use, sorted
  /// longest-waiting customer first: ``Workspace/caseQueue(_:now:)`` applies it.
  func view(agent: String?) throws -> CaseView {
    var view = CaseView()
    view.statuses = status.map { [$0] } ?? CaseStatus.allCases.filter(CaseLifecycle.active.contains)
    view.channel = channel
    view.unassigned = unassigned
    if mine {
      guard let agent else {
        throw WebError(
          .badRequest,
          "mine=1 needs to know who you are: start kb serve with --as \"Name <email>\", or set git config user.name.")
      }
      view.assignee = agent
    }
    view.sort = .waiting
    return view
  }
}

/// `/` and `/api/queue`: one page of the queue (``Workspace/caseQueue(_:now:)``'s rows, with
/// waiting times and response-time targets), and what the filters can choose from.
struct QueuePage: Sendable, Codable {
  var filter: QueueFilter
  /// The signing agent (whose cases `mine` selects).
  var agent: String?
  /// Cases the filter selects; `items` is the page of them from `filter.offset`.
  var total: Int
  var items: [CaseRow]
  /// Every channel cases use.
  var channels: [String]
  /// When waiting times and targets were judged.
  var now: String
}
