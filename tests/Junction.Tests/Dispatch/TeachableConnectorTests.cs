using Junction.Dispatch;
using Junction.Integrations.Teachable;
using Junction.Tests.Dispatch.Fakes;
using Microsoft.Extensions.Time.Testing;
using static Junction.Tests.Dispatch.ConnectorTestKit;

namespace Junction.Tests.Dispatch;

public sealed class TeachableConnectorTests
{
    private readonly FakeTimeProvider _clock = new(Now);

    private TeachableConnector Connector(Uri baseUrl, string apiKey = FakeTeachable.ApiKey) =>
        new(DestConfig("teachable", baseUrl, new() { ["api_key"] = apiKey }), Http(), _clock);

    [Fact]
    public async Task Purchase_CreatesTheMissingUser_AndEnrollsInTheCourse()
    {
        await using var teachable = await FakeTeachable.StartAsync(101, 102);

        var result = await Connector(teachable.BaseUrl).DeliverAsync(StateWork(Contact("ada@example.com", "101")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        var user = teachable.User("ada@example.com");
        Assert.NotNull(user);
        Assert.Equal("Ada Lovelace", user.Value.Name);
        Assert.Equal("Junction", user.Value.Src);
        Assert.Equal([101], teachable.ActiveCourses("ada@example.com"));
        Assert.Equal(
            ["GET /v1/users?email=ada%40example.com", "POST /v1/users", "POST /v1/enroll {\"user_id\":1000,\"course_id\":101}"],
            result.Requests.Select(r => r.StartsWith("POST /v1/users", StringComparison.Ordinal) ? "POST /v1/users" : r));
    }

    [Fact]
    public async Task ExistingUser_IsFoundByEmail_IgnoringCase_AndNotCreatedAgain()
    {
        await using var teachable = await FakeTeachable.StartAsync(101);
        var id = teachable.AddUser("Ada@Example.com", "Ada");

        var result = await Connector(teachable.BaseUrl).DeliverAsync(StateWork(Contact("ada@example.com", "101")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(1, teachable.UserCount);
        Assert.Equal([101], teachable.ActiveCourses("ada@example.com"));
        Assert.Contains($"POST /v1/enroll {{\"user_id\":{id},\"course_id\":101}}", result.Requests);
    }

    [Fact]
    public async Task Refund_UnenrollsFromTheCourseNoLongerDesired_AndKeepsTheOthers()
    {
        await using var teachable = await FakeTeachable.StartAsync(101, 102);
        var id = teachable.AddUser("ada@example.com");
        teachable.Enroll(id, 101);
        teachable.Enroll(id, 102);

        var result = await Connector(teachable.BaseUrl).DeliverAsync(
            StateWork(Contact("ada@example.com", "102"), lastSynced: Contact("ada@example.com", "101", "102")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal([102], teachable.ActiveCourses("ada@example.com"));
        Assert.Equal(0, teachable.Api.Count("POST /v1/enroll"));
    }

    [Fact]
    public async Task CoursesJunctionNeverGranted_AreLeftAlone()
    {
        await using var teachable = await FakeTeachable.StartAsync(101, 555);
        var id = teachable.AddUser("ada@example.com");
        teachable.Enroll(id, 101);
        teachable.Enroll(id, 555); // granted by hand in Teachable

        var result = await Connector(teachable.BaseUrl).DeliverAsync(
            StateWork(Contact("ada@example.com"), lastSynced: Contact("ada@example.com", "101")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal([555], teachable.ActiveCourses("ada@example.com"));
    }

    [Fact]
    public async Task Unenroll_OfAUserNotEnrolled_Answered404_IsSuccess()
    {
        await using var teachable = await FakeTeachable.StartAsync(101);
        teachable.AddUser("ada@example.com");

        var result = await Connector(teachable.BaseUrl).DeliverAsync(
            StateWork(Contact("ada@example.com"), lastSynced: Contact("ada@example.com", "101")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(1, teachable.Api.Count("POST /v1/unenroll"));
        Assert.Contains("Enrollment not found", result.Response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unenroll_WhenTheUserDoesNotExist_SendsNoUnenroll_AndCreatesNoUser()
    {
        await using var teachable = await FakeTeachable.StartAsync(101);

        var result = await Connector(teachable.BaseUrl).DeliverAsync(
            StateWork(Contact("ada@example.com"), lastSynced: Contact("ada@example.com", "101")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal(0, teachable.UserCount);
        Assert.Equal(0, teachable.Api.Count("POST"));
    }

    [Fact]
    public async Task Retry_AfterAPartialSuccess_DoesNotEnrollTwice()
    {
        await using var teachable = await FakeTeachable.StartAsync(101, 102);
        var connector = Connector(teachable.BaseUrl);
        var work = StateWork(Contact("ada@example.com", "101", "102"));
        var id = teachable.AddUser("ada@example.com");
        teachable.Enroll(id, 101); // the first attempt got this far

        var result = await connector.DeliverAsync(work, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal([101, 102], teachable.ActiveCourses("ada@example.com"));
        Assert.Equal(["POST /v1/enroll {\"user_id\":1000,\"course_id\":102}"], result.Requests.Where(r => r.StartsWith("POST /v1/enroll", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task NoCourseChange_SendsNothing()
    {
        await using var teachable = await FakeTeachable.StartAsync(101);
        var same = Contact("ada@example.com", "101");

        var result = await Connector(teachable.BaseUrl).DeliverAsync(StateWork(same with { Tags = ["paid"] }, lastSynced: same), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Empty(result.Requests);
        Assert.Empty(teachable.Api.Requests);
    }

    [Fact]
    public async Task EmailChange_MovesJunctionsCourses_FromTheOldUserToTheNewOne()
    {
        await using var teachable = await FakeTeachable.StartAsync(101);
        var old = teachable.AddUser("ada@old.example");
        teachable.Enroll(old, 101);

        var result = await Connector(teachable.BaseUrl).DeliverAsync(
            StateWork(Contact("ada@new.example", "101"), lastSynced: Contact("ada@old.example", "101")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Empty(teachable.ActiveCourses("ada@old.example"));
        Assert.Equal([101], teachable.ActiveCourses("ada@new.example"));
    }

    [Fact]
    public async Task WrongApiKey_IsPermanent_AndSaysToCheckCredentials()
    {
        await using var teachable = await FakeTeachable.StartAsync(101);

        var result = await Connector(teachable.BaseUrl, "wrong").DeliverAsync(StateWork(Contact("ada@example.com", "101")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Equal(401, result.Status);
        Assert.Contains("Unauthorized", result.Error, StringComparison.Ordinal);
        Assert.Contains("check credentials", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, teachable.UserCount);
    }

    [Fact]
    public async Task RateLimited_UsesTeachablesRateLimitReset_AndChangesNothing()
    {
        await using var teachable = await FakeTeachable.StartAsync(101);
        teachable.RateLimitNext(1);

        var result = await Connector(teachable.BaseUrl).DeliverAsync(StateWork(Contact("ada@example.com", "101")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.RateLimited, result.Outcome);
        Assert.Equal(429, result.Status);
        Assert.Equal(TimeSpan.FromSeconds(47), result.RetryAfter);
        Assert.Contains("API rate limit exceeded", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, teachable.UserCount);
    }

    [Fact]
    public async Task RateLimitedMidway_ThenRetried_Converges_WithoutRepeatingWhatSucceeded()
    {
        await using var teachable = await FakeTeachable.StartAsync(101, 102);
        var connector = Connector(teachable.BaseUrl);
        var work = StateWork(Contact("ada@example.com", "101", "102"));
        teachable.AddUser("ada@example.com");
        teachable.RateLimitNext(1, after: 3); // lookup, detail and the first enroll pass; the second enroll is refused

        var first = await connector.DeliverAsync(work, CancellationToken.None);
        var second = await connector.DeliverAsync(work with { Attempt = 2 }, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.RateLimited, first.Outcome);
        Assert.Equal(DeliveryOutcome.Succeeded, second.Outcome);
        Assert.Equal([101, 102], teachable.ActiveCourses("ada@example.com"));
        Assert.Equal(1, teachable.Api.Requests.Count(r => r.Body.Contains("\"course_id\":101", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    public async Task ServerError_IsTransient(int status)
    {
        await using var teachable = await FakeTeachable.StartAsync(101);
        teachable.FailNext(1, status);

        var result = await Connector(teachable.BaseUrl).DeliverAsync(StateWork(Contact("ada@example.com", "101")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Transient, result.Outcome);
        Assert.Equal(status, result.Status);
    }

    [Fact]
    public async Task ServerDown_IsTransient()
    {
        var result = await Connector(ClosedPort()).DeliverAsync(StateWork(Contact("ada@example.com", "101")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Transient, result.Outcome);
    }

    [Fact]
    public async Task UnknownCourse_IsPermanent_WithTeachablesMessage()
    {
        await using var teachable = await FakeTeachable.StartAsync(101);

        var result = await Connector(teachable.BaseUrl).DeliverAsync(StateWork(Contact("ada@example.com", "999")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Equal(404, result.Status);
        Assert.Contains("enroll in course 999", result.Error, StringComparison.Ordinal);
        Assert.Contains("Course not found", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CourseIdThatIsNotAnInteger_IsPermanent_BeforeAnyRequest()
    {
        await using var teachable = await FakeTeachable.StartAsync(101);

        var result = await Connector(teachable.BaseUrl).DeliverAsync(StateWork(Contact("ada@example.com", "intro-course")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Contains("destinations.teachable-main.courses: 'intro-course'", result.Error, StringComparison.Ordinal);
        Assert.Empty(teachable.Api.Requests);
    }

    [Fact]
    public async Task MissingApiKey_IsPermanent_NamingTheConfigKey()
    {
        await using var teachable = await FakeTeachable.StartAsync(101);
        var connector = new TeachableConnector(DestConfig("teachable", teachable.BaseUrl), Http(), _clock);

        var result = await connector.DeliverAsync(StateWork(Contact("ada@example.com", "101")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
        Assert.Contains("credentials.api_key", result.Error, StringComparison.Ordinal);
        Assert.Empty(teachable.Api.Requests);
    }

    [Fact]
    public async Task ApiKey_IsSentInTheApiKeyHeader_AndNeverRecorded()
    {
        await using var teachable = await FakeTeachable.StartAsync(101);

        var result = await Connector(teachable.BaseUrl).DeliverAsync(StateWork(Contact("ada@example.com", "101")), CancellationToken.None);

        Assert.All(teachable.Api.Requests, r => Assert.Equal(FakeTeachable.ApiKey, r.Headers["apiKey"]));
        Assert.All(result.Requests, r => Assert.DoesNotContain(FakeTeachable.ApiKey, r, StringComparison.Ordinal));
    }

    [Fact]
    public async Task BaseUrl_NamingTheV1Root_Works()
    {
        await using var teachable = await FakeTeachable.StartAsync(101);

        var result = await Connector(new Uri(teachable.BaseUrl, "/v1")).DeliverAsync(StateWork(Contact("ada@example.com", "101")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Succeeded, result.Outcome);
        Assert.Equal([101], teachable.ActiveCourses("ada@example.com"));
    }

    [Fact]
    public async Task StateTaskWithoutDesiredState_IsPermanent()
    {
        await using var teachable = await FakeTeachable.StartAsync(101);

        var result = await Connector(teachable.BaseUrl).DeliverAsync(StateWork(Contact("a@b.c")) with { Desired = null }, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Permanent, result.Outcome);
    }

    [Fact]
    public void Name_ComesFromTheNameField_ElseFirstAndLast()
    {
        Assert.Equal("Ada Lovelace", TeachableConnector.Name(Contact("a@b.c")));
        Assert.Equal("Countess", TeachableConnector.Name(Contact("a@b.c") with { Fields = [new("name", " Countess ")] }));
        Assert.Null(TeachableConnector.Name(Contact("a@b.c") with { Fields = [] }));
    }
}
