using System.Text;
using Junction.Intake;
using Junction.Observability;

namespace Junction.Tests.Intake;

/// <summary>The body check's sentences and the one address mask, on their own.</summary>
public sealed class JsonBodyTests
{
    [Theory]
    [InlineData("{\"email\":\"a@x.com\"}", null)]
    [InlineData("", "body: empty; expected a JSON object")]
    [InlineData("  \r\n", "body: empty; expected a JSON object")]
    [InlineData("{\"email\":\"a@x.com\",\"email\":\"b@x.com\"}", "body: duplicate key 'email'")]
    [InlineData("{\"a\":{\"email\":1},\"b\":{\"email\":2}}", null)]
    [InlineData("{\"email\":\"a@", "body: not valid JSON")]
    public void Problem_NamesWhatIsWrong(string json, string? expected)
    {
        var problem = JsonBody.Problem(Encoding.UTF8.GetBytes(json));
        if (expected is null) Assert.Null(problem);
        else Assert.StartsWith(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Problem_GivesTheOffsetOfTheFirstInvalidUtf8Byte()
    {
        byte[] body = [.. "{\"email\":\"ab"u8, 0xFF, .. "\"}"u8];
        Assert.Equal("body: invalid UTF-8 at byte 12", JsonBody.Problem(body));
    }

    [Fact]
    public void Problem_AcceptsSixtyFourLevels_AndRefusesSixtyFive()
    {
        static byte[] Nested(int levels) => Encoding.UTF8.GetBytes(new string('[', levels) + new string(']', levels));
        Assert.Null(JsonBody.Problem(Nested(64)));
        Assert.StartsWith("body: JSON nested deeper than 64 levels", JsonBody.Problem(Nested(65)), StringComparison.Ordinal);
        using var parsed = System.Text.Json.JsonDocument.Parse(Nested(64)); // what passes the check parses
    }

    [Fact]
    public void Problem_DoesNotQuoteAnAddressInADuplicateKey()
    {
        var problem = JsonBody.Problem("{\"ada@example.com\":1,\"ada@example.com\":2}"u8);
        Assert.NotNull(problem);
        Assert.DoesNotContain("ada@example.com", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("jane.doe@example.com", "j***@e***.com")]
    [InlineData("x@localhost", "x***@l***")]
    [InlineData("nobody", "n***")]
    [InlineData("@example.com", "*")]
    public void MaskEmail_KeepsFirstLettersAndTheTopLevelDomain(string email, string expected) =>
        Assert.Equal(expected, Pii.MaskEmail(email));

    [Fact]
    public void Redact_MasksEveryAddressInText_AndLeavesTheRest()
    {
        var text = "400 Bad Request: Forgotten Email Not Subscribed: ada@example.com was deleted (see <bob+x@mail.example.org>)";
        Assert.Equal("400 Bad Request: Forgotten Email Not Subscribed: a***@e***.com was deleted (see <b***@m***.org>)", Pii.Redact(text));
        Assert.Equal("no address here", Pii.Redact("no address here"));
        Assert.Null(Pii.Redact(null));
    }
}
