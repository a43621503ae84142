using Junction.Storage;
using Junction.Tests.Support;

namespace Junction.Tests.Admin;

/// <summary>The CLI's state-changing verbs record themselves in the operations log as <c>cli</c>.</summary>
public sealed class OperationsLogCliTests
{
    [Fact]
    public async Task PauseResumeQuarantineRetryAndAHealingAudit_FromTheCommandLine_AreLoggedWithTheCliActor()
    {
        var dir = TestStorage.NewTempDirectory();
        var db = Path.Combine(dir, "junction.db");
        var config = Path.Combine(dir, "junction.yaml");
        await File.WriteAllTextAsync(config, $"""
            storage: "sqlite:{db}"
            admin:
              tokens: [{"{"}token: "t0123456789abcdef", role: operator, name: ops-anna{"}"}]
            sources:
              stripe-main:
                provider: stripe
                secrets: ["whsec_x"]
            destinations:
              hook:
                type: webhook
                base_url: "http://127.0.0.1:9/hooks"
                credentials:
                  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
            """);

        var (code, output) = await JunctionProcess.RunAsync(dir, null, "pause", "hook", "--config", config, "--reason", "vendor outage");
        Assert.True(code == 0, output);
        (code, output) = await JunctionProcess.RunAsync(dir, null, "resume", "hook", "--config", config);
        Assert.True(code == 0, output);
        (code, output) = await JunctionProcess.RunAsync(dir, null, "quarantine", "retry", "--config", config, "--all");
        Assert.True(code == 0, output);
        // Reading is not an operation, nor an audit that only reports.
        (code, output) = await JunctionProcess.RunAsync(dir, null, "dlq", "list", "--config", config);
        Assert.True(code == 0, output);
        (code, output) = await JunctionProcess.RunAsync(dir, null, "audit", "--config", config, "--no-heal");
        Assert.True(code is 0 or 1, output);

        await using var store = StoreFactory.Open("sqlite:" + db, TimeProvider.System);
        var entries = await ((IOperationsStore)store).ListOperationsAsync(10, null, CancellationToken.None);
        Assert.Equal(["quarantine.retry", "destinations.resume", "destinations.pause"], entries.Select(e => e.Action));
        Assert.All(entries, e => Assert.Equal("cli", e.Actor));
        Assert.Equal("hook", entries[2].Target);
        Assert.Contains("\"reason\":\"vendor outage\"", entries[2].Detail, StringComparison.Ordinal);
        Assert.Equal("all", entries[0].Target);

        // An audit that heals changes state (it queues re-syncs), so it is an operation.
        (code, output) = await JunctionProcess.RunAsync(dir, null, "audit", "--config", config, "--since", "2d");
        Assert.True(code is 0 or 1, output);
        var audit = (await ((IOperationsStore)store).ListOperationsAsync(1, null, CancellationToken.None))[0];
        Assert.Equal(("audits.run", "cli"), (audit.Action, audit.Actor));
        Assert.Contains("\"heal\":true", audit.Detail, StringComparison.Ordinal);
        Assert.Contains("\"since\":\"2d\"", audit.Detail, StringComparison.Ordinal);
        Assert.Equal(4, (await ((IOperationsStore)store).ListOperationsAsync(10, null, CancellationToken.None)).Count);
    }
}
