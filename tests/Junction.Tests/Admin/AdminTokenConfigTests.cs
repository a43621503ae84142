using Junction.Admin;
using Junction.Config;

namespace Junction.Tests.Admin;

/// <summary><c>admin.tokens</c> with roles: bare strings stay admins, mappings carry role and name, errors name their key path.</summary>
public sealed class AdminTokenConfigTests
{
    private const string Sources = """
        sources:
          s:
            provider: stripe
            secrets: ["whsec_x"]
        """;

    private static Func<string, string?> Env(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    private static JunctionConfig Parse(string admin, Func<string, string?>? environment = null) =>
        ConfigLoader.Parse(admin + "\n" + Sources, "test.yaml", environment ?? Env());

    private static IReadOnlyList<ConfigError> Errors(string admin, Func<string, string?>? environment = null) =>
        Assert.Throws<ConfigException>(() => Parse(admin, environment)).Errors;

    [Fact]
    public void Tokens_MixBareStringsAndMappings_WithRolesAndNames()
    {
        var config = Parse("""
            admin:
              tokens:
                - "plain-token-0123456789"
                - {token: "${VIEWER}", role: viewer}
                - {token: "operator-token-0123456789", role: operator, name: ops-anna}
            """, Env(("VIEWER", "viewer-token-0123456789")));

        Assert.Equal(
            [
                new AdminTokenEntry("plain-token-0123456789", AdminRole.Admin, "token-1"),
                new AdminTokenEntry("viewer-token-0123456789", AdminRole.Viewer, "token-2"),
                new AdminTokenEntry("operator-token-0123456789", AdminRole.Operator, "ops-anna"),
            ],
            config.Admin.Entries);
        Assert.Equal(["plain-token-0123456789", "viewer-token-0123456789", "operator-token-0123456789"], config.Admin.Tokens);
    }

    [Fact]
    public void AdminConfigFromStrings_MakesEveryTokenAnAdminNamedByPosition()
    {
        var admin = new AdminConfig(["first-token-0123456789", "second-token-0123456789"]);

        Assert.Equal([AdminRole.Admin, AdminRole.Admin], admin.Entries.Select(e => e.Role));
        Assert.Equal(["token-1", "token-2"], admin.Entries.Select(e => e.Name));
    }

    [Fact]
    public void AnEntry_PrintsItsNameAndRole_NotItsToken()
    {
        var entry = new AdminTokenEntry("secret-token-0123456789", AdminRole.Operator, "ops-anna");

        Assert.Equal("ops-anna (operator)", entry.ToString());
        Assert.DoesNotContain("secret-token", AdminConfig.WithRoles([entry]).ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{token: \"root-token-0123456789\", role: root}", "admin.tokens[1].role", "expected viewer, operator or admin; got 'root'")]
    [InlineData("{token: \"short\", role: viewer}", "admin.tokens[1].token", "at least 16 characters")]
    [InlineData("{role: viewer}", "admin.tokens[1].token", "required")]
    [InlineData("{token: \"root-token-0123456789\", roles: viewer}", "admin.tokens[1].roles", "unknown key; expected one of token, role, name")]
    [InlineData("{token: \"root-token-0123456789\", name: \"a b\"}", "admin.tokens[1].name", "expected a short name")]
    [InlineData("{token: \"root-token-0123456789\", name: cli}", "admin.tokens[1].name", "the command line records")]
    [InlineData("{token: \"first-token-0123456789\", role: viewer}", "admin.tokens[1].token", "the same token as an earlier entry ('token-1')")]
    [InlineData("{token: \"other-token-0123456789\", name: token-1}", "admin.tokens[1].name", "'token-1' names an earlier token too")]
    [InlineData("[\"nested\"]", "admin.tokens[1]", "expected a token string or a mapping {token, role, name}")]
    public void ABadEntry_IsAnErrorNamingItsKeyPath(string second, string path, string message)
    {
        var error = Assert.Single(Errors($"""
            admin:
              tokens:
                - "first-token-0123456789"
                - {second}
            """));

        Assert.Equal(path, error.Path);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("first-token-0123456789", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tokens_NotAList_IsAnError()
    {
        var error = Assert.Single(Errors("""
            admin:
              tokens: "just-one-token-0123456789"
            """));

        Assert.Equal("admin.tokens", error.Path);
    }
}
