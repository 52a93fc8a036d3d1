using Microsoft.Extensions.FileProviders;

namespace VideoEncode.Api.Extensions;

/// <summary>
/// Serves the add-jobs and view-jobs pages: the repository's wwwroot/, copied beside the host as
/// pages/ by the build. The pages are plain files, so this works wherever the host runs from.
/// </summary>
public static class PagesSetup
{
    // The pages load nothing from other sites and run no inline script: a file name that slipped
    // past the pages' escaping still could not load or run anything. Swagger UI gets the same.
    internal const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    public static WebApplication UsePages(this WebApplication app)
    {
        var root = Path.Combine(AppContext.BaseDirectory, "pages");
        if (!Directory.Exists(root))
        {
            app.Logger.LogWarning("No pages folder at {Root}; the add-jobs and view-jobs pages are not served.", root);
            return app;
        }
        var files = new PhysicalFileProvider(root);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.CacheControl = "no-cache"; // revalidate, so an upgraded host serves its own pages
            },
        });
        return app;
    }
}
