using System.Security.Cryptography;
using System.Text;
using Junction.Canonical;
using Junction.Identity;

namespace Junction.State;

/// <summary>
/// The events that <c>lifecycle:</c> rules with <c>emit:</c> ask for: one per timer the first time
/// the state shows it due. They are not written to the log (a rebuild re-derives the timers, and the
/// timers table keeps each fired once); they go to event destinations like any other event, with an
/// id derived from the timer key so a retried delivery carries the same idempotency key.
/// </summary>
public static class LifecycleEvents
{
    public const string Source = "lifecycle";
    public const string Provider = "junction";

    public static IReadOnlyList<CanonicalEvent> Due(PersonState? before, PersonState after, PersonIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(after);
        ArgumentNullException.ThrowIfNull(identity);
        List<CanonicalEvent>? emitted = null;
        foreach (var timer in after.Timers)
        {
            if (timer is not { Due: true, Emit: { } type }) continue;
            if (before is not null && before.Timers.Any(t => t.Due && string.Equals(t.Key, timer.Key, StringComparison.Ordinal))) continue;
            (emitted ??= []).Add(new CanonicalEvent
            {
                Id = CanonicalEvent.MakeId(Source, timer.Key),
                RawId = "",
                Source = Source,
                Provider = Provider,
                Type = type,
                ProviderType = "lifecycle." + timer.Name,
                OccurredAt = timer.DueAt,
                TraceId = TraceId(timer.Key),
                Subject = new Subject { Email = identity.PrimaryEmail ?? (identity.Emails is [var first, ..] ? first : null) },
            });
        }
        return emitted ?? (IReadOnlyList<CanonicalEvent>)[];
    }

    private static string TraceId(string key) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("lifecycle\n" + key)).AsSpan(0, 16));
}
