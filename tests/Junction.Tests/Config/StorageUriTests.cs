using Junction.Config;

namespace Junction.Tests.Config;

public sealed class StorageUriTests
{
    [Theory]
    [InlineData("postgres:Host=db.internal;Port=5433;Username=junction;Password=hunter2;Database=junction")]
    [InlineData("postgres:Password=hunter2;Host=db.internal;Port=5433;Database=junction")]
    [InlineData("postgres:host=db.internal; port=5433 ; password=hunter2 ;database=junction")]
    [InlineData("postgres:Host=db.internal;Port=5433;Database=junction;Pwd=hunter2")]
    public void Describe_NeverContainsPostgresPassword(string value)
    {
        var description = StorageUri.Parse(value).Describe();

        Assert.DoesNotContain("hunter2", description, StringComparison.Ordinal);
        Assert.Equal("PostgreSQL at db.internal:5433/junction", description);
    }

    [Fact]
    public void Describe_DefaultsPostgresPortAndMarksUnknownParts()
    {
        var description = StorageUri.Parse("postgres:Username=u;Password=hunter2;Host=pg").Describe();

        Assert.Equal("PostgreSQL at pg:5432/?", description);
    }

    [Fact]
    public void Describe_UriStyleConnectionString_DoesNotLeakPassword()
    {
        var description = StorageUri.Parse("postgres:postgresql://junction:hunter2@db.internal:5432/junction").Describe();

        Assert.DoesNotContain("hunter2", description, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ReadsSqlitePath()
    {
        var uri = StorageUri.Parse("sqlite:./data/junction.db");

        Assert.Equal(StorageEngine.Sqlite, uri.Engine);
        Assert.Equal("./data/junction.db", uri.Target);
        Assert.Equal("SQLite at ./data/junction.db", uri.Describe());
    }

    [Fact]
    public void Parse_ReadsPostgresConnectionString()
    {
        var uri = StorageUri.Parse("postgres:Host=h;Database=d");

        Assert.Equal(StorageEngine.Postgres, uri.Engine);
        Assert.Equal("Host=h;Database=d", uri.Target);
    }

    [Theory]
    [InlineData("")]
    [InlineData("sqlite:")]
    [InlineData("postgresql:Host=h")]
    [InlineData("file:./x.db")]
    public void Parse_RejectsUnknownScheme_AsStorageError(string value)
    {
        Assert.False(StorageUri.TryParse(value, out var uri, out var message));
        Assert.Null(uri);
        Assert.Contains("sqlite:PATH", message, StringComparison.Ordinal);

        var error = Assert.Single(Assert.Throws<ConfigException>(() => StorageUri.Parse(value)).Errors);
        Assert.Equal("storage", error.Path);
    }
}
