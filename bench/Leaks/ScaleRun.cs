using System.Globalization;

namespace Junction.Bench.Leaks;

/// <summary>What one audit's read-back cost with this many people in the tools.</summary>
internal sealed record ScalePoint(int People, int Buyers, int Refunds, int StripeEvents, int ReportedCalls, IReadOnlyDictionary<string, int> Calls, TimeSpan Wall, string Status);

/// <summary>
/// The read cost at scale: the tools are seeded straight (Kit subscribers with the paid tag, Teachable
/// users and enrollments, Stripe's event list) with the same mix as the journeys, no faults, and one
/// audit with heal off reads them back. Junction's own ledger stays empty (driving 20 000 journeys
/// through it would take most of an hour on two cores); what the read-back costs does not depend on
/// it, only on what the tools hold. Its findings are not looked at.
/// </summary>
internal static class ScaleRun
{
    public static async Task<ScalePoint> RunAsync(Stack stack, int people, int seed, Action<string> log)
    {
        var rng = new Random(seed);
        var start = TimeProvider.System.GetUtcNow().AddMinutes(-20);
        var (buyers, refunds) = (0, 0);
        for (var i = 0; i < people; i++)
        {
            var email = $"scale{i.ToString(CultureInfo.InvariantCulture)}@leaks.example";
            var key = $"s{people.ToString(CultureInfo.InvariantCulture)}x{i.ToString("d6", CultureInfo.InvariantCulture)}";
            var buys = rng.NextDouble() < LeakRun.BuyRate;
            var refunded = buys && rng.NextDouble() < LeakRun.RefundRate;
            var active = buys && !refunded;
            stack.Kit.AddSubscriber(email, "active", active ? [Stack.PaidTag] : []);
            if (!buys) continue;
            buyers++;
            var at = start.AddMilliseconds(i * 10);
            stack.Stripe.Purchase(key, email, 4900, "course-pro", at);
            var user = stack.Teachable.AddUser(email);
            if (active) stack.Teachable.Enroll(user, Stack.CourseId);
            if (refunded)
            {
                refunds++;
                stack.Stripe.Refund(key, email, 4900, at.AddMinutes(3));
            }
        }
        log($"scale {people}: seeded {people} Kit subscribers, {buyers} Teachable users, {stack.Stripe.EventCount} Stripe events; auditing (heal off)");
        var (report, wall) = await stack.AuditAsync(heal: false, TimeSpan.FromMinutes(15));
        var calls = LeakRun.ReadBackRequests(stack, report);
        var reported = report.TryGetProperty("api_calls", out var c) && c.ValueKind == System.Text.Json.JsonValueKind.Number ? c.GetInt32() : -1;
        log($"scale {people}: audit {report.GetProperty("status").GetString()} in {wall.TotalSeconds:0.0} s, {reported} API calls");
        return new ScalePoint(people, buyers, refunds, stack.Stripe.EventCount, reported, calls, wall, report.GetProperty("status").GetString() ?? "?");
    }
}
