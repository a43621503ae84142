using System.Security.Cryptography;
using Junction.Cli;
using Junction.Config;
using Junction.Storage;
using Junction.Tests.Support;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Junction.Tests.Normalize;

/// <summary>
/// Normalization commits its outcome, events and cursor together; if it crashed after a commit and
/// processed the same raw events again (a rewound cursor is the worst case), nothing doubles.
/// </summary>
public abstract class NormalizerReplayTests
{
    protected abstract Task<string> NewStorageAsync();

    protected abstract Task RewindCursorAsync(string storage);

    [Fact]
    public async Task ReprocessingTheWholeLog_ProducesNoSecondCanonicalEvent()
    {
        var storage = await NewStorageAsync();
        var config = new JunctionConfig
        {
            Storage = storage,
            Admin = new AdminConfig(["t"]),
            Sources = new Dictionary<string, SourceConfig> { ["stripe"] = new() { Id = "stripe", Provider = "stripe", Secrets = ["whsec_x"] } },
            Path = "test.yaml",
        };
        await using var cli = await CliServices.CreateAsync(config, CancellationToken.None);
        var bodies = new[]
        {
            StripeFixtures.Event("evt_r1", "charge.refunded", StripeFixtures.Charge(1000, false, "re_1", 1000)),
            StripeFixtures.Event("evt_r2", "charge.dispute.created", StripeFixtures.Dispute("needs_response")),
            StripeFixtures.Event("evt_r3", "product.created", """{"id":"prod_1"}"""),
            """{"id":"evt_r4","type":"charge.refunded"}"""u8.ToArray(),
        };
        var now = TimeProvider.System.GetUtcNow();
        await cli.Store.AppendRawAsync(bodies.Select((b, i) => new RawEventDraft(Guid.CreateVersion7(now).ToString(), "stripe", $"evt_r{i + 1}", now,
            "trace", "application/json", "{}", b, Convert.ToHexStringLower(SHA256.HashData(b)))).ToList(), CancellationToken.None);

        Assert.Equal(4, await cli.Normalizer.DrainAsync(null, CancellationToken.None));
        var first = await cli.Store.ListCanonicalAsync(null, null, null, 0, 100, CancellationToken.None);
        Assert.Equal(2, first.Items.Count);
        Assert.Single((await cli.Store.ListQuarantineAsync(null, 0, 100, CancellationToken.None)).Items);

        await RewindCursorAsync(storage);
        Assert.Equal(4, await cli.Normalizer.DrainAsync(null, CancellationToken.None));
        var second = await cli.Store.ListCanonicalAsync(null, null, null, 0, 100, CancellationToken.None);
        Assert.Equal(first.Items.Select(i => i.Json), second.Items.Select(i => i.Json));
        Assert.Single((await cli.Store.ListQuarantineAsync(null, 0, 100, CancellationToken.None)).Items);
    }
}

public sealed class SqliteNormalizerReplayTests : NormalizerReplayTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());

    protected override async Task RewindCursorAsync(string storage)
    {
        await using var c = new SqliteConnection($"Data Source={storage["sqlite:".Length..]};Pooling=False");
        await c.OpenAsync();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "UPDATE cursors SET position = 0";
        Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
    }
}

public sealed class PostgresNormalizerReplayTests : NormalizerReplayTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();

    protected override async Task RewindCursorAsync(string storage)
    {
        await using var c = new NpgsqlConnection(storage["postgres:".Length..]);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand("UPDATE cursors SET position = 0", c);
        Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
    }
}
