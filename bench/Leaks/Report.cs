using System.Globalization;

namespace Junction.Bench.Leaks;

/// <summary>Prints the tables and the verdict per target.</summary>
internal static class Report
{
    private static readonly string[] PointNames = ["", "capture_misrouting", "payment_attribution_gaps", "paid_without_access", "duplicate_or_delayed_tags", "refund_leaks"];

    // Which tools each point compares against (one read-back serves several points).
    private static readonly string[] PointReads = ["", "kit", "stripe", "kit + teachable", "kit + teachable", "kit + teachable"];

    public static void Print(LeakRun run, IReadOnlyList<ScalePoint> scale)
    {
        var inv = CultureInfo.InvariantCulture;
        var journeys = run.Journeys;
        Console.WriteLine();
        Console.WriteLine($"== Revenue leak audit, {journeys.Count} journeys (seed {run.Seed})");
        Console.WriteLine($"   {journeys.Count} opt-ins, {journeys.Count(j => j.Buys)} purchases ({LeakRun.BuyRate:P0}), {journeys.Count(j => j.Refunds)} refunds ({LeakRun.RefundRate:P0} of purchases); "
            + $"{run.WebhooksSent} webhooks and opt-ins sent over {run.DriveTime.TotalSeconds:0.0} s (refunds once the purchases had settled), {run.Refused} refused");
        Console.WriteLine($"   pipeline settled: {Yes(run.Settled)} ({run.SettleTime.TotalSeconds:0.0} s after the last send); heals settled: {Yes(run.HealSettled)} ({run.HealSettleTime.TotalSeconds:0.0} s after the audit)");
        if (run.ReadErrors.Count > 0) Console.WriteLine($"   audit read errors: {string.Join("; ", run.ReadErrors)}");

        // ---- per point
        var points = run.AuditReport.GetProperty("points").EnumerateArray().ToDictionary(p => p.GetProperty("point").GetInt32());
        int LeaksAt(Dictionary<Journey, List<string>> leaks, int point) => leaks.Sum(l => l.Value.Count(k => l.Key.ExpectedPoint(k) == point));
        Console.WriteLine();
        Console.WriteLine("   Per audit point (a leak is counted at the point it belongs to; a missed webhook's leaks at point 2)");
        Console.WriteLine($"   {"point",-28} {"leaks before",12} {"leaks after",11} {"checked",8} {"findings",9} {"healed",7} {"failed",7} {"other",6}  reads");
        foreach (var n in Enumerable.Range(1, 5))
        {
            var p = points[n];
            var found = run.Findings.Where(f => f.Point == n).ToList();
            Console.WriteLine($"   {n.ToString(inv) + " " + PointNames[n],-28} {LeaksAt(run.LeaksBefore, n),12} {LeaksAt(run.LeaksAfter, n),11} {p.GetProperty("checked").GetInt32(),8} {found.Count,9} "
                + $"{found.Count(f => f.HealStatus == "healed"),7} {found.Count(f => f.HealStatus == "failed"),7} {found.Count(f => f.HealStatus is not ("healed" or "failed")),6}  {PointReads[n]}");
        }
        var kinds = run.Findings.GroupBy(f => $"{f.Point}:{f.Kind}").OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} ×{g.Count()}");
        Console.WriteLine($"   findings by point:kind: {string.Join(", ", kinds)}");
        var started = DateTimeOffset.Parse(run.AuditReport.GetProperty("started_at").GetString()!, inv);
        var finished = run.AuditReport.GetProperty("finished_at").GetString() is { } f1 ? DateTimeOffset.Parse(f1, inv) : started;
        Console.WriteLine($"   the audit: {(finished - started).TotalSeconds:0.0} s by its report ({run.AuditWall.TotalSeconds:0.0} s from POST to its report), one read-back serves all five points;");
        Console.WriteLine($"   API calls: {run.ReportedCalls} by its report; counted at the fakes: {string.Join(", ", run.ReadCalls.Select(c => $"{c.Key} {c.Value}"))} "
            + $"(a lookup per person would be {4 * journeys.Count} + the Stripe list)");
        Console.WriteLine($"   a second audit (report only) after the heals: {run.SecondFindings.Count} findings"
            + (run.SecondFindings.Count == 0 ? "" : $" ({string.Join(", ", run.SecondFindings.GroupBy(f => $"{f.Point}:{f.Kind}").Select(g => $"{g.Key} ×{g.Count()}"))})"));

        // ---- per fault kind
        Console.WriteLine();
        Console.WriteLine("   Per fault kind (people hit; a leak is caused by a fault when that fault explains it, see bench/README.md)");
        Console.WriteLine($"   {"fault",-32} {"injected",8} {"caused a leak",13} {"detected",8} {"right point",11}  findings on these people by point");
        var leakPeople = run.LeaksBefore;
        var missedAttribution = 0;
        var undetected = 0;
        foreach (var kind in Faults.All)
        {
            var hit = journeys.Where(j => j.FaultKinds().Contains(kind)).ToList();
            var caused = hit.Where(j => leakPeople.TryGetValue(j, out var l) && l.Any(k => Causes(j, k, kind))).ToList();
            var detected = caused.Where(j => run.Findings.Any(f => f.Journey == j)).ToList();
            var right = detected.Where(j => leakPeople[j].Where(k => Causes(j, k, kind)).All(k => run.Findings.Any(f => f.Journey == j && f.Point == j.ExpectedPoint(k)))).ToList();
            undetected += caused.Count - detected.Count;
            missedAttribution += detected.Count - right.Count;
            var byPoint = run.Findings.Where(f => f.Journey is { } j && hit.Contains(j)).GroupBy(f => f.Point).OrderBy(g => g.Key).Select(g => $"p{g.Key} ×{g.Count()}");
            var injected = kind switch
            {
                Faults.Duplicated => $"{hit.Count} ({hit.Sum(j => j.Duplicated.Count)} ev)",
                Faults.Missed => $"{hit.Count} ({hit.Sum(j => j.Missed.Count)} ev)",
                Faults.Timeout => $"{hit.Count} ({run.TimeoutRequests} req)",
                _ => hit.Count.ToString(inv),
            };
            Console.WriteLine($"   {kind,-32} {injected,8} {caused.Count,13} {detected.Count,8} {right.Count,11}  {string.Join(", ", byPoint)}");
        }
        var unexplained = leakPeople.Where(l => l.Key.Clean).ToList();
        Console.WriteLine($"   {"(no injected fault)",-32} {journeys.Count(j => j.Clean),8} {unexplained.Count,13}");
        var leakKinds = leakPeople.SelectMany(l => l.Value).GroupBy(k => k).Select(g => $"{g.Key} ×{g.Count()}");
        Console.WriteLine($"   leaks before by kind: {string.Join("; ", leakKinds)}");
        var after = run.LeaksAfter.SelectMany(l => l.Value).GroupBy(k => k).Select(g => $"{g.Key} ×{g.Count()}");
        if (run.LeaksAfter.Count > 0) Console.WriteLine($"   leaks after by kind: {string.Join("; ", after)}");

        // Every person with a leak, whatever caused it: found, and at the right point?
        var allDetected = leakPeople.Keys.Count(j => run.Findings.Any(f => f.Journey == j));
        var allRight = leakPeople.Count(l => l.Value.All(k => run.Findings.Any(f => f.Journey == l.Key && f.Point == l.Key.ExpectedPoint(k))));
        var falsePositives = run.Findings.Where(f => f.Journey is null || f.Journey.Clean).ToList();
        var benign = run.Findings.Where(f => f.Journey is { Clean: false } j && !leakPeople.ContainsKey(j)).ToList();
        Console.WriteLine($"   people with a leak: {leakPeople.Count}; found by the audit: {allDetected}; every leak at its point: {allRight}");
        Console.WriteLine($"   findings on clean people or nobody known: {falsePositives.Count}"
            + (falsePositives.Count == 0 ? "" : $" ({string.Join(", ", falsePositives.GroupBy(f => $"{f.Point}:{f.Kind}").Select(g => $"{g.Key} ×{g.Count()}"))})"));
        Console.WriteLine($"   findings on people hit by a fault that left no leak: {benign.Count}"
            + (benign.Count == 0 ? "" : $" ({string.Join(", ", benign.GroupBy(f => $"{f.Point}:{f.Kind}").Select(g => $"{g.Key} ×{g.Count()}"))})"));

        // ---- scale
        if (scale.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine("   Read cost with more people (tools seeded straight, Junction's ledger empty, one audit with heal off; page sizes: Kit 1 000, Teachable 100, Stripe 100)");
            Console.WriteLine($"   {"people",7} {"calls",6} {"stripe",7} {"kit",5} {"teachable",9} {"a lookup per person",19} {"duration",9}");
            foreach (var s in scale)
            {
                Console.WriteLine($"   {s.People,7} {s.ReportedCalls,6} {s.Calls["stripe"],7} {s.Calls["kit"],5} {s.Calls["teachable"],9} {4 * s.People + s.Calls["stripe"],19} {s.Wall.TotalSeconds,8:0.0}s");
            }
        }

        // ---- verdicts
        Console.WriteLine();
        var leaksAfter = run.LeaksAfter.Values.Sum(l => l.Count);
        Console.WriteLine($"   {Verdict(leaksAfter == 0 && run.HealSettled)}  0 leaks after one audit cycle: {leaksAfter} left (of {run.LeaksBefore.Values.Sum(l => l.Count)} before)");
        var causedTotal = leakPeople.Count;
        Console.WriteLine($"   {Verdict(allDetected == causedTotal && allRight == causedTotal && unexplained.Count == 0)}  every leak detected and attributed to the right point: "
            + $"{allDetected}/{causedTotal} detected, {allRight}/{causedTotal} at the right point, {unexplained.Count} leaks with no injected fault behind them");
        Console.WriteLine($"   {Verdict(falsePositives.Count == 0)}  no false positives on clean people: {falsePositives.Count}");
        if (scale.Count >= 2)
        {
            var (small, large) = (scale[0], scale[^1]);
            // Every call a page of a bulk list: at most the pages those lists need (and a retry or two), none per person.
            var ok = large.ReportedCalls > 0 && large.ReportedCalls <= PagesNeeded(large) + 2 && small.ReportedCalls <= PagesNeeded(small) + 2;
            Console.WriteLine($"   {Verdict(ok)}  audit calls grow with tags, courses and pages, not per person: {small.ReportedCalls} calls for {small.People} people "
                + $"(their lists are {PagesNeeded(small)} pages), {large.ReportedCalls} for {large.People} ({PagesNeeded(large)} pages); a lookup per person: {4 * large.People}");
            Console.WriteLine("         (calls still grow with people through paging: Teachable and Stripe list 100 a page, Kit 1 000; at these sizes the pages are");
            Console.WriteLine("         mostly Teachable's users and enrollments and Stripe's events)");
        }
        else
        {
            Console.WriteLine("   SKIP  audit calls vs people: no scale pass (BENCH_SCALE)");
        }
        _ = missedAttribution + undetected;
    }

    private static bool Causes(Journey j, string leak, string kind) =>
        j.Cause(leak) is { } cause ? cause == kind : kind is Faults.Duplicated or Faults.Reordered or Faults.Status500 or Faults.Status429 or Faults.Timeout;

    private static int Pages(int items, int size) => Math.Max(1, (items + size - 1) / size);

    /// <summary>
    /// The pages one audit reads at this size: Kit's tag list, its paid tag's holders and all subscribers (1 000 a page);
    /// Teachable's course enrollments and its users (100 a page); Stripe's events (100 a page).
    /// </summary>
    private static int PagesNeeded(ScalePoint s) =>
        1 + Pages(s.Buyers - s.Refunds, 1000) + Pages(s.People, 1000) + Pages(s.Buyers - s.Refunds, 100) + Pages(s.Buyers, 100) + Pages(s.StripeEvents, 100);

    private static string Yes(bool b) => b ? "yes" : "NO (timed out)";

    private static string Verdict(bool pass) => pass ? "PASS" : "FAIL";
}
