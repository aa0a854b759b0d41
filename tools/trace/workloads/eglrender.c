// SPDX-License-Identifier: MIT
/*
 * eglrender: a headless OpenGL ES 3 renderer through EGL, shaped like a
 * game's frame loop, to see what an OpenGL driver maps for DMA.
 *
 *   eglrender [FRAMES]     default 480
 *
 * Each frame: streams texture tiles into a set of 1024x1024 textures
 * through a ring of pixel-unpack buffers (glBufferData with no data, the
 * usual orphaning, then glMapBufferRange and glTexSubImage2D from the
 * buffer), uploads one tile straight from client memory, orphans and
 * refills a vertex buffer, draws textured quads into a 1920x1080
 * framebuffer and reads it back with glReadPixels into one of two
 * pixel-pack buffers, mapping the one written a frame earlier. At the
 * middle the whole level is thrown away and loaded again (every texture
 * and buffer deleted and created anew, at a different texture count).
 * Writes "PHASE name" to $PVDMA_TRACE_MARKER.
 *
 * Build: cc -std=c11 -O2 -o eglrender eglrender.c -lEGL -lGLESv2
 */
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES3/gl3.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WIDTH 1920
#define HEIGHT 1080
#define TEX_SIZE 1024
#define TILE 256
#define MAX_TEXTURES 96
#define UNPACK_RING 4
#define TILES_PER_FRAME 6
#define QUADS 512
#define VERTEX_BYTES (QUADS * 6 * 4 * sizeof(float))

struct level {
	GLuint tex[MAX_TEXTURES];
	int ntex;
	GLuint unpack[UNPACK_RING];
	GLuint pack[2];
	GLuint vbo;
	GLuint vao;
	GLuint fbo, color;
};

struct renderer {
	EGLDisplay dpy;
	EGLContext ctx;
	GLuint prog;
	int marker_fd;
	uint32_t rng;
	unsigned char *client_tile;
	float *vertices;
	uint64_t checksum;
};

static void die(const char *what)
{
	fprintf(stderr, "eglrender: %s (EGL 0x%x, GL 0x%x)\n", what,
		eglGetError(), glGetError());
	exit(1);
}

static void phase(struct renderer *r, const char *name)
{
	char line[128];
	int n;

	printf("phase %s\n", name);
	fflush(stdout);
	if (r->marker_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "PHASE %s\n", name);
	if (write(r->marker_fd, line, (size_t)n) < 0)
		perror("trace_marker");
}

static uint32_t next_random(struct renderer *r)
{
	r->rng = r->rng * 1664525u + 1013904223u;
	return r->rng >> 8;
}

/* The first EGL device (NVIDIA's headless path), else the default display. */
static EGLDisplay open_display(void)
{
	PFNEGLQUERYDEVICESEXTPROC query_devices = (PFNEGLQUERYDEVICESEXTPROC)
		eglGetProcAddress("eglQueryDevicesEXT");
	PFNEGLGETPLATFORMDISPLAYEXTPROC platform_display =
		(PFNEGLGETPLATFORMDISPLAYEXTPROC)
		eglGetProcAddress("eglGetPlatformDisplayEXT");
	EGLDeviceEXT devices[4];
	EGLint ndev = 0;

	if (query_devices && platform_display &&
	    query_devices(4, devices, &ndev) && ndev > 0) {
		EGLDisplay d = platform_display(EGL_PLATFORM_DEVICE_EXT,
						devices[0], NULL);

		if (d != EGL_NO_DISPLAY)
			return d;
	}
	return eglGetDisplay(EGL_DEFAULT_DISPLAY);
}

static void open_context(struct renderer *r)
{
	static const EGLint config_attrs[] = {
		EGL_SURFACE_TYPE, EGL_PBUFFER_BIT,
		EGL_RENDERABLE_TYPE, EGL_OPENGL_ES3_BIT,
		EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8,
		EGL_NONE
	};
	static const EGLint ctx_attrs[] = {
		EGL_CONTEXT_MAJOR_VERSION, 3, EGL_NONE
	};
	static const EGLint pbuf_attrs[] = {
		EGL_WIDTH, 16, EGL_HEIGHT, 16, EGL_NONE
	};
	EGLConfig config;
	EGLint nconfig, major, minor;
	EGLSurface surf;

	r->dpy = open_display();
	if (r->dpy == EGL_NO_DISPLAY || !eglInitialize(r->dpy, &major, &minor))
		die("no EGL display");
	printf("EGL %d.%d %s\n", major, minor,
	       eglQueryString(r->dpy, EGL_VENDOR));
	if (!eglBindAPI(EGL_OPENGL_ES_API) ||
	    !eglChooseConfig(r->dpy, config_attrs, &config, 1, &nconfig) ||
	    nconfig < 1)
		die("no EGL config");
	r->ctx = eglCreateContext(r->dpy, config, EGL_NO_CONTEXT, ctx_attrs);
	if (r->ctx == EGL_NO_CONTEXT)
		die("no GLES 3 context");
	surf = eglCreatePbufferSurface(r->dpy, config, pbuf_attrs);
	if (surf == EGL_NO_SURFACE || !eglMakeCurrent(r->dpy, surf, surf, r->ctx))
		die("cannot make the context current");
	printf("GL %s, %s\n", glGetString(GL_VERSION), glGetString(GL_RENDERER));
}

static GLuint compile_shader(GLenum kind, const char *src)
{
	GLuint s = glCreateShader(kind);
	GLint ok;

	glShaderSource(s, 1, &src, NULL);
	glCompileShader(s);
	glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
	if (!ok)
		die("shader does not compile");
	return s;
}

static void build_program(struct renderer *r)
{
	static const char *vs =
		"#version 300 es\n"
		"layout(location = 0) in vec2 pos;\n"
		"layout(location = 1) in vec2 uv;\n"
		"out vec2 v_uv;\n"
		"void main() { v_uv = uv; gl_Position = vec4(pos, 0.0, 1.0); }\n";
	static const char *fs =
		"#version 300 es\n"
		"precision mediump float;\n"
		"uniform sampler2D tex;\n"
		"in vec2 v_uv;\n"
		"out vec4 color;\n"
		"void main() { color = texture(tex, v_uv); }\n";
	GLint ok;

	r->prog = glCreateProgram();
	glAttachShader(r->prog, compile_shader(GL_VERTEX_SHADER, vs));
	glAttachShader(r->prog, compile_shader(GL_FRAGMENT_SHADER, fs));
	glLinkProgram(r->prog);
	glGetProgramiv(r->prog, GL_LINK_STATUS, &ok);
	if (!ok)
		die("program does not link");
	glUseProgram(r->prog);
}

/* Every texture filled once from client memory, as a level load does. */
static void load_level(struct level *lv, int ntex)
{
	size_t tex_bytes = (size_t)TEX_SIZE * TEX_SIZE * 4;
	unsigned char *fill = malloc(tex_bytes);
	int i;

	if (!fill)
		die("out of memory");
	lv->ntex = ntex;
	glGenTextures(ntex, lv->tex);
	for (i = 0; i < ntex; i++) {
		memset(fill, i * 37, tex_bytes);
		glBindTexture(GL_TEXTURE_2D, lv->tex[i]);
		glTexStorage2D(GL_TEXTURE_2D, 1, GL_RGBA8, TEX_SIZE, TEX_SIZE);
		glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, TEX_SIZE, TEX_SIZE,
				GL_RGBA, GL_UNSIGNED_BYTE, fill);
		glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
	}
	free(fill);
	glGenBuffers(UNPACK_RING, lv->unpack);
	glGenBuffers(2, lv->pack);
	for (i = 0; i < 2; i++) {
		glBindBuffer(GL_PIXEL_PACK_BUFFER, lv->pack[i]);
		glBufferData(GL_PIXEL_PACK_BUFFER, (GLsizeiptr)WIDTH * HEIGHT * 4,
			     NULL, GL_STREAM_READ);
	}
	glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
	glGenVertexArrays(1, &lv->vao);
	glBindVertexArray(lv->vao);
	glGenBuffers(1, &lv->vbo);
	glBindBuffer(GL_ARRAY_BUFFER, lv->vbo);
	glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 4 * sizeof(float), 0);
	glVertexAttribPointer(1, 2, GL_FLOAT, GL_FALSE, 4 * sizeof(float),
			      (void *)(2 * sizeof(float)));
	glEnableVertexAttribArray(0);
	glEnableVertexAttribArray(1);
	glGenFramebuffers(1, &lv->fbo);
	glGenRenderbuffers(1, &lv->color);
	glBindRenderbuffer(GL_RENDERBUFFER, lv->color);
	glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, WIDTH, HEIGHT);
	glBindFramebuffer(GL_FRAMEBUFFER, lv->fbo);
	glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0,
				  GL_RENDERBUFFER, lv->color);
	if (glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE)
		die("framebuffer incomplete");
	glViewport(0, 0, WIDTH, HEIGHT);
	glFinish();
}

static void unload_level(struct level *lv)
{
	glDeleteTextures(lv->ntex, lv->tex);
	glDeleteBuffers(UNPACK_RING, lv->unpack);
	glDeleteBuffers(2, lv->pack);
	glDeleteBuffers(1, &lv->vbo);
	glDeleteVertexArrays(1, &lv->vao);
	glDeleteFramebuffers(1, &lv->fbo);
	glDeleteRenderbuffers(1, &lv->color);
	glFinish();
}

/* Tiles through the unpack ring: orphan, map, fill, unmap, upload. */
static void stream_tiles(struct renderer *r, struct level *lv, int frame)
{
	GLsizeiptr tile_bytes = (GLsizeiptr)TILE * TILE * 4;
	int i;

	for (i = 0; i < TILES_PER_FRAME; i++) {
		GLuint pbo = lv->unpack[(frame * TILES_PER_FRAME + i) % UNPACK_RING];
		unsigned char *p;
		GLint x = (GLint)(next_random(r) % (TEX_SIZE / TILE)) * TILE;
		GLint y = (GLint)(next_random(r) % (TEX_SIZE / TILE)) * TILE;

		glBindBuffer(GL_PIXEL_UNPACK_BUFFER, pbo);
		glBufferData(GL_PIXEL_UNPACK_BUFFER, tile_bytes, NULL,
			     GL_STREAM_DRAW);
		p = glMapBufferRange(GL_PIXEL_UNPACK_BUFFER, 0, tile_bytes,
				     GL_MAP_WRITE_BIT |
				     GL_MAP_INVALIDATE_BUFFER_BIT);
		if (!p)
			die("glMapBufferRange of an unpack buffer");
		memset(p, frame + i, (size_t)tile_bytes);
		glUnmapBuffer(GL_PIXEL_UNPACK_BUFFER);
		glBindTexture(GL_TEXTURE_2D,
			      lv->tex[next_random(r) % (uint32_t)lv->ntex]);
		glTexSubImage2D(GL_TEXTURE_2D, 0, x, y, TILE, TILE, GL_RGBA,
				GL_UNSIGNED_BYTE, 0);
	}
	glBindBuffer(GL_PIXEL_UNPACK_BUFFER, 0);
	memset(r->client_tile, frame, (size_t)TILE * TILE * 4);
	glBindTexture(GL_TEXTURE_2D, lv->tex[frame % lv->ntex]);
	glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, TILE, TILE, GL_RGBA,
			GL_UNSIGNED_BYTE, r->client_tile);
}

/* Orphan the vertex buffer and draw a quad per texture bind. */
static void draw(struct renderer *r, struct level *lv, int frame)
{
	float *v = r->vertices;
	int q;

	for (q = 0; q < QUADS; q++) {
		float x = (float)(next_random(r) % 1000) / 500.0f - 1.0f;
		float y = (float)(next_random(r) % 1000) / 500.0f - 1.0f;
		float s = 0.1f + (float)(frame % 10) / 100.0f;
		float c[6][4] = {
			{ x, y, 0, 0 }, { x + s, y, 1, 0 }, { x, y + s, 0, 1 },
			{ x + s, y, 1, 0 }, { x + s, y + s, 1, 1 }, { x, y + s, 0, 1 },
		};

		memcpy(v + q * 24, c, sizeof(c));
	}
	glBindBuffer(GL_ARRAY_BUFFER, lv->vbo);
	glBufferData(GL_ARRAY_BUFFER, VERTEX_BYTES, NULL, GL_STREAM_DRAW);
	glBufferSubData(GL_ARRAY_BUFFER, 0, VERTEX_BYTES, r->vertices);
	glBindFramebuffer(GL_FRAMEBUFFER, lv->fbo);
	glClearColor(0.1f, 0.2f, 0.3f, 1.0f);
	glClear(GL_COLOR_BUFFER_BIT);
	for (q = 0; q < QUADS; q += 16) {
		glBindTexture(GL_TEXTURE_2D, lv->tex[(q / 16 + frame) % lv->ntex]);
		glDrawArrays(GL_TRIANGLES, q * 6, 16 * 6);
	}
}

/* Read this frame into one pack buffer and map the other (a frame late). */
static void read_back(struct renderer *r, struct level *lv, int frame)
{
	GLsizeiptr bytes = (GLsizeiptr)WIDTH * HEIGHT * 4;
	const unsigned char *p;

	glBindBuffer(GL_PIXEL_PACK_BUFFER, lv->pack[frame & 1]);
	glReadPixels(0, 0, WIDTH, HEIGHT, GL_RGBA, GL_UNSIGNED_BYTE, 0);
	if (frame == 0)
		goto out;
	glBindBuffer(GL_PIXEL_PACK_BUFFER, lv->pack[!(frame & 1)]);
	p = glMapBufferRange(GL_PIXEL_PACK_BUFFER, 0, bytes, GL_MAP_READ_BIT);
	if (!p)
		die("glMapBufferRange of a pack buffer");
	r->checksum += p[(size_t)(next_random(r) % (uint32_t)bytes)];
	glUnmapBuffer(GL_PIXEL_PACK_BUFFER);
out:
	glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
}

static void run_frames(struct renderer *r, struct level *lv, int first,
		       int count)
{
	int f;

	for (f = first; f < first + count; f++) {
		stream_tiles(r, lv, f);
		draw(r, lv, f);
		read_back(r, lv, f - first);
	}
	glFinish();
}

int main(int argc, char **argv)
{
	int frames = argc > 1 ? atoi(argv[1]) : 480;
	const char *marker = getenv("PVDMA_TRACE_MARKER");
	struct renderer r = { .marker_fd = -1, .rng = 480 };
	struct level lv;

	if (frames < 2 || frames > 100000) {
		fprintf(stderr, "usage: eglrender [FRAMES]\n");
		return 2;
	}
	if (marker && *marker)
		r.marker_fd = open(marker, O_WRONLY);
	r.client_tile = malloc((size_t)TILE * TILE * 4);
	r.vertices = malloc(VERTEX_BYTES);
	if (!r.client_tile || !r.vertices)
		die("out of memory");
	phase(&r, "init");
	open_context(&r);
	build_program(&r);
	phase(&r, "load");
	load_level(&lv, 64);
	phase(&r, "frames");
	run_frames(&r, &lv, 0, frames / 2);
	phase(&r, "reload");
	unload_level(&lv);
	load_level(&lv, MAX_TEXTURES);
	phase(&r, "frames2");
	run_frames(&r, &lv, frames / 2, frames - frames / 2);
	phase(&r, "teardown");
	unload_level(&lv);
	eglMakeCurrent(r.dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
	eglTerminate(r.dpy);
	printf("eglrender: %d frames, checksum %llu\n", frames,
	       (unsigned long long)r.checksum);
	phase(&r, "end");
	return 0;
}
