using Junction.Audit;
using Junction.Integrations.Thinkific;
using static Junction.Tests.Dispatch.ConnectorTestKit;

namespace Junction.Tests.Integrations.Thinkific;

/// <summary>The Thinkific read-back against the stateful fake: enrollments of each mapped course by page, access-giving ones only, refused credentials.</summary>
public sealed class ThinkificReadBackTests
{
    private int _gated;

    private static IDestinationReadBack ReadBack(FakeThinkific thinkific, string apiKey = FakeThinkific.ApiKey) =>
        ThinkificDestination.CreateReadBack(DestConfig(ThinkificDestination.Type, thinkific.BaseUrl, new() { ["api_key"] = apiKey },
            new() { ["subdomain"] = FakeThinkific.Subdomain }) with
        {
            Courses = new Dictionary<string, string>(StringComparer.Ordinal) { ["course-pro"] = "101" },
        }, Http(), TimeProvider.System);

    private ValueTask Gate(CancellationToken _)
    {
        Interlocked.Increment(ref _gated);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task FiveStudents_InPagesOfTwo_AreAllRead_ByEmail_WithActivatedAt()
    {
        await using var thinkific = await FakeThinkific.StartAsync(101);
        thinkific.PageSize = 2;
        var at = new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);
        for (var i = 1; i <= 5; i++) thinkific.EnrollByHand($"User{i}@Example.com", 101, activatedAt: at.AddDays(i));

        var read = await ReadBack(thinkific).ReadAsync(Gate, CancellationToken.None);

        Assert.False(read.CoversSubscriptions);
        Assert.Equal(5, read.Contacts.Count);
        for (var i = 1; i <= 5; i++)
        {
            var contact = read.Contacts[$"user{i}@example.com"];
            Assert.Equal(ObservedStatus.None, contact.Status);
            Assert.Equal(at.AddDays(i), Assert.Single(contact.Courses, c => c.Key == "101").Value);
        }
        Assert.Equal(3, thinkific.Api.Count("GET /api/public/v1/enrollments?query%5Bcourse_id%5D=101&page="));
        Assert.Equal(0, thinkific.Api.Count("GET /api/public/v1/users"));
        Assert.Equal((3, 3), (read.ApiCalls, _gated));
    }

    [Fact]
    public async Task ExpiredEnrollments_AndUnmappedCourses_DoNotCount()
    {
        await using var thinkific = await FakeThinkific.StartAsync(101, 102);
        thinkific.EnrollByHand("ada@example.com", 101);
        thinkific.EnrollByHand("ada@example.com", 102); // a course Junction does not manage
        thinkific.EnrollByHand("bob@example.com", 101, expiry: TimeProvider.System.GetUtcNow().AddDays(-1));
        thinkific.EnrollByHand("cy@example.com", 101, expiry: TimeProvider.System.GetUtcNow().AddDays(30)); // expires later: access now

        var read = await ReadBack(thinkific).ReadAsync(Gate, CancellationToken.None);

        Assert.Equal(["ada@example.com", "cy@example.com"], read.Contacts.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["101"], read.Contacts["ada@example.com"].Courses.Keys);
        Assert.Equal(0, thinkific.Api.Count("GET /api/public/v1/enrollments?query%5Bcourse_id%5D=102"));
    }

    [Fact]
    public async Task RefusedApiKey_EndsTheRead_NamingTheCredentials()
    {
        await using var thinkific = await FakeThinkific.StartAsync(101);

        var e = await Assert.ThrowsAsync<ReadBackException>(() => ReadBack(thinkific, "wrong-key").ReadAsync(Gate, CancellationToken.None));

        Assert.Contains("answered 401", e.Message, StringComparison.Ordinal);
        Assert.Contains("destinations.thinkific-main.credentials", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerError_IsRetried_AndTheReadCompletes()
    {
        await using var thinkific = await FakeThinkific.StartAsync(101);
        thinkific.EnrollByHand("ada@example.com", 101);
        thinkific.FailNext(1, 502);

        var read = await ReadBack(thinkific).ReadAsync(Gate, CancellationToken.None);

        Assert.Equal(["101"], read.Contacts["ada@example.com"].Courses.Keys);
        Assert.Equal(2, thinkific.Api.Count("GET /api/public/v1/enrollments"));
    }
}
