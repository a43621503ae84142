using System.Globalization;

namespace Junction.Tests.Fuzz;

/// <summary>The fuzz run takes both cores of a small machine for a minute: alone, after the parallel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FuzzAlone
{
    public const string Name = "FuzzAlone";
}

/// <summary>
/// Hostile input at volume: mutated real provider fixtures, validly signed, posted to the real
/// junction process on SQLite. Each body is accepted (and normalized or quarantined with a reason)
/// or refused with a 4xx; never another 5xx, never a crash, memory bounded. bench/fuzz.sh runs the
/// same test with JUNCTION_FUZZ_CASES=1000000 against a Release build.
/// </summary>
[Collection(FuzzAlone.Name)]
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const long DefaultCases = 20_000;
    private const long RssLimitKb = 1536 * 1024;

    [Fact]
    public async Task MutatedSignedProviderBodies_AreAcceptedOr4xx_NeverA5xxOrCrash_AndEveryStoredOneGetsANormalizationOutcome()
    {
        var cases = long.TryParse(Environment.GetEnvironmentVariable("JUNCTION_FUZZ_CASES"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : DefaultCases;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("JUNCTION_FUZZ_SEED"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 16;
        var drain = TimeSpan.FromSeconds(Math.Max(120, cases / 200));

        var report = await FuzzRun.RunAsync(cases, seed, concurrency: 8, drain, line => output.WriteLine(line));
        var text = report.ToString();
        output.WriteLine(text);
        if (Environment.GetEnvironmentVariable("JUNCTION_FUZZ_REPORT") is { Length: > 0 } path) await File.WriteAllTextAsync(path, text);

        Assert.True(report.AliveAfter, text);
        Assert.Equal(System.Net.HttpStatusCode.OK, report.HealthAfter);
        Assert.True(report.TransportErrors == 0, text);
        Assert.True(report.UnexpectedServerErrorCount == 0, text);
        Assert.True(report.WithoutOutcome == 0, text);
        Assert.True(report.MapperExceptions == 0, text);
        Assert.True(report.ErrorLogLines.Count == 0, text);
        Assert.True(report.PeakRssKb is > 0 and < RssLimitKb, text);
        // The run must have reached the mappers: every source accepted bodies, and each kind of mutation got through somewhere.
        Assert.All(FuzzCorpus.Sources, source => Assert.True(report.AcceptedBySource.GetValueOrDefault(source.Id) > 0, $"{source.Id} accepted nothing\n{text}"));
        Assert.All(Enum.GetValues<Mutation>(), m => Assert.True(report.AcceptedByMutation.GetValueOrDefault(m) > 0, $"no body with {m} was accepted\n{text}"));
        Assert.True(report.Outcomes.GetValueOrDefault("mapped") > 0 && report.Outcomes.GetValueOrDefault("quarantined") > 0, text);
    }
}
