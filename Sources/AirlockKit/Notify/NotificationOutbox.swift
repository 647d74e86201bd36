import Foundation
import Synchronization

/// The notifications of one orchestrator's commands: each sent in the background as soon as its event is recorded,
/// and awaited before the command ends, so a slow receiver holds up no automatic rollback.
final class NotificationOutbox: Sendable {
  /// The deliveries of one event.
  struct Sent: Sendable {
    var environment: String
    var commit: ObjectID
    /// The event's commit message, which progress lines quote.
    var event: String
    var deliveries: [NotificationDelivery]
  }

  private let sending = Mutex<[Task<Sent, Never>]>([])
  /// Webhook URLs held by secrets, each asked of its source once per command.
  private let urls = Mutex<[String: Task<Result<String, NotifyFailure>, Never>]>([:])

  /// Starts telling `notifiers` about `notification` (at the same time); `url` gives each webhook its URL.
  func send(
    _ notification: EventNotification, event: String, to notifiers: [Notifier],
    url: @escaping @Sendable (NotifySpec) async -> Result<String, NotifyFailure>?
  ) {
    let task = Task {
      let deliveries = await withTaskGroup(of: (Int, NotificationDelivery).self) { group in
        for (index, notifier) in notifiers.enumerated() {
          group.addTask { (index, await notifier.deliver(notification, url: await url(notifier.spec))) }
        }
        var deliveries: [(Int, NotificationDelivery)] = []
        for await delivery in group { deliveries.append(delivery) }
        return deliveries.sorted { $0.0 < $1.0 }.map(\.1)
      }
      return Sent(
        environment: notification.environment, commit: notification.eventId, event: event, deliveries: deliveries)
    }
    sending.withLock { $0.append(task) }
  }

  /// The webhook URL the secret `name` holds, from `resolve` the first time this command asks.
  func url(secret name: String, resolve: @escaping @Sendable () async -> Result<String, NotifyFailure>) async
    -> Result<String, NotifyFailure>
  {
    let task = urls.withLock { cache in
      if let known = cache[name] { return known }
      let task = Task { await resolve() }
      cache[name] = task
      return task
    }
    return await task.value
  }

  /// Waits for every notification sent so far and returns what each did, in the order the events were recorded.
  func drain() async -> [Sent] {
    let tasks = sending.withLock { tasks in
      defer { tasks.removeAll() }
      return tasks
    }
    var sent: [Sent] = []
    for task in tasks { sent.append(await task.value) }
    return sent
  }
}
