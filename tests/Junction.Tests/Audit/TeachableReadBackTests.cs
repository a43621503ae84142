using System.Diagnostics;
using Junction.Audit;
using Junction.Integrations.Teachable;
using Junction.Tests.Dispatch.Fakes;
using static Junction.Tests.Dispatch.ConnectorTestKit;

namespace Junction.Tests.Audit;

/// <summary>The Teachable read-back against the stateful fake: enrollments and users by page, active and mapped courses only, 429 waits, refused credentials.</summary>
public sealed class TeachableReadBackTests
{
    private int _gated;

    private static TeachableReadBack ReadBack(FakeTeachable teachable, string apiKey = FakeTeachable.ApiKey) =>
        new(DestConfig(DestinationTypes.Teachable, teachable.BaseUrl, new() { ["api_key"] = apiKey }) with
        {
            Courses = new Dictionary<string, string>(StringComparer.Ordinal) { ["course-pro"] = "101" },
        }, Http(), TimeProvider.System);

    private ValueTask Gate(CancellationToken _)
    {
        Interlocked.Increment(ref _gated);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task FiveEnrolledUsers_InPagesOfTwo_AreAllRead_WithEnrolledAt_AndNoSubscriptionStatus()
    {
        await using var teachable = await FakeTeachable.StartAsync(101);
        teachable.UserPageSize = 2;
        teachable.EnrollmentPageSize = 2;
        var at = new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);
        for (var i = 1; i <= 5; i++) teachable.EnrollByHand($"user{i}@example.com", 101, at.AddDays(i));

        var read = await ReadBack(teachable).ReadAsync(Gate, CancellationToken.None);

        Assert.False(read.CoversSubscriptions);
        Assert.Equal(5, read.Contacts.Count);
        for (var i = 1; i <= 5; i++)
        {
            var contact = read.Contacts[$"user{i}@example.com"];
            Assert.Equal(ObservedStatus.None, contact.Status);
            Assert.Equal(at.AddDays(i), Assert.Single(contact.Courses, c => c.Key == "101").Value);
            Assert.Empty(contact.Tags);
        }
        Assert.Equal(3, teachable.Api.Count("GET /v1/courses/101/enrollments?"));
        Assert.Equal(3, teachable.Api.Count("GET /v1/users?"));
        Assert.Equal((6, 6), (read.ApiCalls, _gated));
    }

    [Fact]
    public async Task OnlyActiveEnrollments_InMappedCourses_Count()
    {
        await using var teachable = await FakeTeachable.StartAsync(101, 102);
        teachable.EnrollByHand("ada@example.com", 101);
        teachable.EnrollByHand("ada@example.com", 102); // a course Junction does not manage
        teachable.EnrollByHand("bob@example.com", 101);
        teachable.UnenrollByHand("bob@example.com", 101);
        teachable.EnrollByHand("cy@example.com", 101, expiresAt: TimeProvider.System.GetUtcNow().AddDays(-1));

        var read = await ReadBack(teachable).ReadAsync(Gate, CancellationToken.None);

        Assert.Equal(["ada@example.com"], read.Contacts.Keys);
        Assert.Equal(["101"], read.Contacts["ada@example.com"].Courses.Keys);
        Assert.Equal(0, teachable.Api.Count("GET /v1/courses/102"));
    }

    [Fact]
    public async Task UserList_StopsOnceEveryEnrolledUserIsKnown()
    {
        await using var teachable = await FakeTeachable.StartAsync(101);
        teachable.UserPageSize = 2;
        teachable.EnrollByHand("ada@example.com", 101);
        for (var i = 1; i <= 5; i++) teachable.AddUser($"lead{i}@example.com");

        var read = await ReadBack(teachable).ReadAsync(Gate, CancellationToken.None);

        Assert.Equal(["ada@example.com"], read.Contacts.Keys);
        Assert.Equal(1, teachable.Api.Count("GET /v1/users?"));
    }

    [Fact]
    public async Task NoEnrollments_NeedNoUserList()
    {
        await using var teachable = await FakeTeachable.StartAsync(101);
        teachable.AddUser("lead@example.com");

        var read = await ReadBack(teachable).ReadAsync(Gate, CancellationToken.None);

        Assert.Empty(read.Contacts);
        Assert.Equal(0, teachable.Api.Count("GET /v1/users"));
    }

    [Fact]
    public async Task RateLimited_ReadWaitsForRateLimitReset_AndTriesAgain()
    {
        await using var teachable = await FakeTeachable.StartAsync(101);
        teachable.EnrollByHand("ada@example.com", 101);
        teachable.ResetSeconds = 1;
        teachable.RateLimitNext(1);

        var clock = Stopwatch.StartNew();
        var read = await ReadBack(teachable).ReadAsync(Gate, CancellationToken.None);

        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"waited only {clock.Elapsed}");
        Assert.Equal(2, teachable.Api.Count("GET /v1/courses/101/enrollments?"));
        Assert.Equal(["101"], read.Contacts["ada@example.com"].Courses.Keys);
    }

    [Fact]
    public async Task RefusedApiKey_EndsTheRead_NamingTheCredentials()
    {
        await using var teachable = await FakeTeachable.StartAsync(101);

        var e = await Assert.ThrowsAsync<ReadBackException>(() => ReadBack(teachable, "wrong-key").ReadAsync(Gate, CancellationToken.None));

        Assert.Contains("answered 401", e.Message, StringComparison.Ordinal);
        Assert.Contains("destinations.teachable-main.credentials", e.Message, StringComparison.Ordinal);
    }
}
