using Junction.Dispatch;
using Junction.Integrations.Thinkific;
using Junction.Tests.Dispatch.Scenarios;
using Junction.Tests.Support;
using static Junction.Tests.Project.ProjectKit;

namespace Junction.Tests.Integrations.Thinkific;

/// <summary>
/// Issue 14 scenarios for the Thinkific destination through the real intake (POST /v1/events), against
/// its stateful fake; each asserts what Thinkific ends up holding. Run per storage engine.
/// </summary>
public abstract class ThinkificScenarioTests
{
    private const string Ada = "ada@example.com";
    private const string Id = "thinkific";
    private const long Course = 101;

    protected abstract Task<string> NewStorageAsync();

    private async Task<(ScenarioRig Rig, FakeThinkific Thinkific)> RigAsync(FakeThinkific? thinkific = null, Action<DispatchOptions>? options = null)
    {
        thinkific ??= await FakeThinkific.StartAsync(Course);
        var destination = new DestinationConfig
        {
            Id = Id, Type = ThinkificDestination.Type, Traits = DestinationTypes.TraitsOf(ThinkificDestination.Type), BaseUrl = thinkific.BaseUrl, RateLimit = 100, RetryBaseDelay = TimeSpan.FromMilliseconds(100),
            Credentials = new Dictionary<string, string>(StringComparer.Ordinal) { ["api_key"] = FakeThinkific.ApiKey },
            Options = new Dictionary<string, string>(StringComparer.Ordinal) { ["subdomain"] = FakeThinkific.Subdomain },
            Courses = new Dictionary<string, string>(StringComparer.Ordinal) { ["course-pro"] = "101" },
        };
        var rig = await ScenarioRig.StartAsync(await NewStorageAsync(), options,
            configure: c => c with { Destinations = new Dictionary<string, DestinationConfig>(c.Destinations, StringComparer.Ordinal) { [Id] = destination } });
        return (rig, thinkific);
    }

    [Fact]
    public async Task Purchase_EnrollsInTheMappedCourse_Refund_ExpiresTheEnrollment()
    {
        var (rig, thinkific) = await RigAsync();
        await using var _ = rig;
        await using var __ = thinkific;

        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));
        await rig.EventuallyAsync(() => thinkific.ActiveCourses(Ada).Count == 1, "the Thinkific enrollment");
        Assert.Equal([Course], thinkific.ActiveCourses(Ada));

        await rig.PostAsync(Refund("ord_1", Ada, "2026-11-02T10:00:00Z"));
        await rig.EventuallyAsync(() => thinkific.ActiveCourses(Ada).Count == 0, "the expired enrollment");
        await rig.SettledAsync();

        var enrollment = Assert.Single(thinkific.EnrollmentsOf(Ada)); // expired, not deleted: progress kept
        Assert.NotNull(enrollment.ExpiryDate);
        Assert.Equal(1, thinkific.Api.Count("POST /api/public/v1/enrollments"));
        Assert.Equal(1, thinkific.Api.Count("PUT /api/public/v1/enrollments/"));
        Assert.Equal(1, thinkific.UserCount);
    }

    [Fact]
    public async Task RateLimitStorm_NoCallBeforeTheRateLimitReset_AndNothingLost()
    {
        var thinkific = await FakeThinkific.StartAsync(Course);
        thinkific.ResetSeconds = 2;
        const int storm = 2;
        thinkific.RateLimitNext(storm);
        var (rig, _) = await RigAsync(thinkific, o =>
        {
            o.BatchSize = 1;
            o.MaxBackoff = TimeSpan.FromSeconds(5); // the rig's short cap would also cap the wait
        });
        await using var __ = rig;
        await using var ___ = thinkific;
        var people = Enumerable.Range(1, 3).Select(i => $"student{i}@example.com").ToList();

        foreach (var (email, i) in people.Select((e, i) => (e, i)))
        {
            await rig.PostAsync(Paid($"ord_{i}", email, "2026-11-01T10:00:00Z"));
        }

        await rig.EventuallyAsync(() => people.All(p => thinkific.ActiveCourses(p).Count == 1), "every student enrolled", seconds: 25);
        var calls = thinkific.Api.Requests.Select(r => r.At).ToList();
        Assert.Equal(storm, thinkific.ResetEpochs.Count);
        for (var i = 0; i < storm; i++)
        {
            // Calls 0..storm-1 were answered 429 with RateLimit-Reset: <epoch>; the next may not come before it.
            var reset = DateTimeOffset.FromUnixTimeSeconds(thinkific.ResetEpochs[i]);
            Assert.True(calls[i + 1] >= reset.AddMilliseconds(-20), $"call {i + 1} came at {calls[i + 1]:O}, before the reset {reset:O}");
        }
        await rig.SettledAsync();
        Assert.Empty(await rig.DeliveriesAsync("state=dead"));
        Assert.Equal(people.Count, thinkific.UserCount);
    }

    [Fact]
    public async Task UnknownCourse_GoesToTheDlq_ReplayAfterTheFix_EnrollsOnce()
    {
        // The creator mapped course 101 before creating it in Thinkific: 422 "Course could not be found."
        var thinkific = await FakeThinkific.StartAsync();
        var (rig, _) = await RigAsync(thinkific);
        await using var __ = rig;
        await using var ___ = thinkific;

        await rig.PostAsync(Paid("ord_1", Ada, "2026-11-01T10:00:00Z"));

        var dead = Assert.Single(await rig.WaitForDeliveriesAsync($"destination={Id}&state=dead", d => d.Count == 1));
        Assert.Contains("Course could not be found.", dead.GetProperty("dead_reason").GetString(), StringComparison.Ordinal);
        Assert.Empty(thinkific.ActiveCourses(Ada));

        thinkific.AddCourse(Course);
        var replay = await ScenarioRig.JsonAsync(await rig.AdminPostAsync("/v1/dlq/replay", $"{{\"ids\":[{dead.GetProperty("id").GetInt64()}]}}"));
        Assert.Equal(1, replay.GetProperty("replayed").GetInt32());

        await rig.EventuallyAsync(() => thinkific.ActiveCourses(Ada).Count == 1, "the replayed enrollment");
        await rig.SettledAsync();
        await Task.Delay(300);
        Assert.Equal([Course], thinkific.ActiveCourses(Ada));
        Assert.Equal(2, thinkific.Api.Count("POST /api/public/v1/enrollments")); // the 422 and the one enrollment
        Assert.Equal(1, thinkific.UserCount); // the user created before the 422 was found again, not duplicated
        Assert.Equal("succeeded", Assert.Single(await rig.DeliveriesAsync($"destination={Id}")).GetProperty("state").GetString());
    }
}

public sealed class SqliteThinkificScenarioTests : ThinkificScenarioTests
{
    protected override Task<string> NewStorageAsync() => Task.FromResult(TestStorage.NewSqlite());
}

public sealed class PostgresThinkificScenarioTests : ThinkificScenarioTests
{
    protected override Task<string> NewStorageAsync() => TestStorage.NewPostgresAsync();
}
