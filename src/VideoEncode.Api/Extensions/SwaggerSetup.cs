using VideoEncode.Api.Http;
using Microsoft.OpenApi;
using VideoEncode.Api.Auth;

namespace VideoEncode.Api.Extensions;

/// <summary>Swagger UI at /swagger, with the X-API-Key scheme so "Authorize" then "Try it out" works.</summary>
public static class SwaggerSetup
{
    private const string SchemeId = "ApiKey";

    public static IServiceCollection AddApiDocumentation(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(swagger =>
        {
            swagger.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "VideoEncode",
                Version = "v1",
                Description = "A self-hosted queue of video encode jobs. Every /api route needs the X-API-Key header.",
            });
            swagger.OperationFilter<RequestBodyDocumentationFilter>();
            swagger.AddSecurityDefinition(SchemeId, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyMiddleware.HeaderName,
                Description = "The key the host was started with (run.sh prints it).",
            });
            swagger.AddSecurityRequirement(document => new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(SchemeId, document)] = [],
            });
        });
        return services;
    }

    public static WebApplication UseApiDocumentation(this WebApplication app)
    {
        // Swagger UI shows job fields (file names, errors) from the API: it gets the pages' strict policy.
        app.Use((context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/swagger"))
            {
                context.Response.Headers.ContentSecurityPolicy = PagesSetup.ContentSecurityPolicy;
                context.Response.Headers.XContentTypeOptions = "nosniff";
            }
            return next(context);
        });
        app.UseSwagger();
        app.UseSwaggerUI();
        return app;
    }
}
