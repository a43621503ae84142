using System.Text.RegularExpressions;
using Junction.Tests.Support;
using Npgsql;

namespace Junction.Tests.Executable;

/// <summary>
/// R8.2 for the audit schedule: two real `junction serve` processes on one PostgreSQL run each
/// scheduled audit once between them (a conditional claim with a lease in the store), and a node
/// killed with SIGKILL and started again neither loses the schedule nor doubles a run.
/// </summary>
public sealed partial class ScheduledAuditElectionTests
{
    private const string Admin = "schedule-admin-token-0123456789";
    private static readonly TimeSpan Cadence = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task TwoNodes_RunEachScheduledAuditOnce_AndAKilledNodeDoesNotDoubleOrLoseTheSchedule()
    {
        var storage = await TestStorage.NewPostgresAsync();
        var connectionString = storage["postgres:".Length..];
        var dir = TestStorage.NewTempDirectory();
        await File.WriteAllTextAsync(Path.Combine(dir, "junction.yaml"), $$"""
            storage: "{{storage}}"
            admin: { tokens: ["{{Admin}}"] }
            sources:
              stripe-main: { provider: stripe, secrets: ["whsec_schedule_test_secret"] }
            audits:
              schedule: { payments: 2s, enrollments: "off", tags: "off" }
            """);

        long killedAt = 0;
        var a = Start(dir, out var clientA);
        using var b = Start(dir, out var clientB);
        try
        {
            await a.WaitHealthyAsync(clientA.BaseAddress!);
            await b.WaitHealthyAsync(clientB.BaseAddress!);
            await Task.Delay(TimeSpan.FromSeconds(9));

            killedAt = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
            a.KillHard();
            a.Dispose();
            a = Start(dir, out clientA);
            await a.WaitHealthyAsync(clientA.BaseAddress!);
            await Task.Delay(TimeSpan.FromSeconds(9));
        }
        finally
        {
            a.Dispose();
        }

        var runs = new List<(string Id, long StartedAt, long? FinishedAt)>();
        await using (var pg = new NpgsqlConnection(connectionString))
        {
            await pg.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT id, started_at, finished_at FROM audits WHERE trigger_name = 'schedule:payments' ORDER BY started_at", pg);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync()) runs.Add((r.GetString(0), r.GetInt64(1), r.IsDBNull(2) ? null : r.GetInt64(2)));
        }

        // Kept on schedule across the kill: the first run one cadence after start, then one per cadence (~18 s in all).
        Assert.InRange(runs.Count, 4, 12);
        // Never two runs of one due time: each starts at least a cadence after the one before finished.
        for (var i = 1; i < runs.Count; i++)
        {
            var gap = runs[i].StartedAt - (runs[i - 1].FinishedAt ?? runs[i - 1].StartedAt);
            Assert.True(gap >= Cadence.TotalMilliseconds - 50, $"runs {runs[i - 1].Id} and {runs[i].Id} are {gap} ms apart: a doubled run");
        }
        // Both nodes took part, and no audit was run by two of them.
        var byB = b.Output.Select(l => Ran().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(byB.Count, byB.Distinct(StringComparer.Ordinal).Count());
        Assert.All(byB, id => Assert.Contains(runs, r => r.Id == id));
        // Not lost: the schedule went on after the kill (a run the dead node held is taken over when its lease ends).
        Assert.True(runs.Count(r => r.StartedAt > killedAt) >= 2, $"only {runs.Count(r => r.StartedAt > killedAt)} runs after the kill");
    }

    private static JunctionProcess Start(string dir, out HttpClient client)
    {
        var port = JunctionProcess.FreePort();
        client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        return JunctionProcess.Start(dir, null, "serve", "--urls", $"http://127.0.0.1:{port}");
    }

    [GeneratedRegex(@"Scheduled payments audit (aud_[0-9a-f]+): completed")]
    private static partial Regex Ran();
}
